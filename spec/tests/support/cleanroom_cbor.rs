//! The clean-room decoder's CBOR reader (SPEC §5), written from the text alone: a generic item
//! tree, with every profile rule a switch that `cleanroom.rs` may leave out.

/// Which of the three CBOR items of a credential is being read: the rules are the same, but a
/// decoder may check them in one place and not another, so each is a rule of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Where {
    /// `S`, the COSE_Sign1 array.
    Sign1,
    /// The protected header's bytes.
    Header,
    /// The payload's bytes.
    Payload,
}

/// A profile rule of SPEC §5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Profile {
    Shortest,
    Definite,
    Sorted,
    Unique,
    Trailing,
    Depth,
    NoTags,
    NoSimple,
    Utf8,
}

impl Profile {
    pub(crate) const ALL: [Profile; 9] = [
        Profile::Shortest,
        Profile::Definite,
        Profile::Sorted,
        Profile::Unique,
        Profile::Trailing,
        Profile::Depth,
        Profile::NoTags,
        Profile::NoSimple,
        Profile::Utf8,
    ];
}

/// A CBOR item as read, with its own encoding.
#[derive(Clone, Debug)]
pub(crate) enum Item {
    Uint(u64),
    /// `-1 - n`.
    Nint(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Item>),
    Map(Vec<(Item, Item)>),
    /// Major type 7 (floats, simple values), kept when the rule against them is left out.
    Other,
}

impl Item {
    pub(crate) fn int(&self) -> Option<i128> {
        match self {
            Item::Uint(n) => Some(i128::from(*n)),
            Item::Nint(n) => Some(-1 - i128::from(*n)),
            _ => None,
        }
    }
}

/// Why the reader refused.
#[derive(Debug)]
pub(crate) struct Refused;

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    on: &'a dyn Fn(Profile) -> bool,
    /// The encodings of the items one level down (an array's elements), in order.
    children: Vec<Vec<u8>>,
}

/// Reads `bytes` as exactly one item, the profile rules switched by `on`; with the encodings of
/// its elements when it is an array.
pub(crate) fn read(
    bytes: &[u8],
    on: &dyn Fn(Profile) -> bool,
) -> Result<(Item, Vec<Vec<u8>>), Refused> {
    let mut r = Reader {
        bytes,
        at: 0,
        on,
        children: Vec::new(),
    };
    let item = r.item(1)?;
    if r.at != bytes.len() && on(Profile::Trailing) {
        return Err(Refused);
    }
    Ok((item, r.children))
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, Refused> {
        let b = *self.bytes.get(self.at).ok_or(Refused)?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&[u8], Refused> {
        let n = usize::try_from(n).map_err(|_| Refused)?;
        let end = self.at.checked_add(n).ok_or(Refused)?;
        let out = self.bytes.get(self.at..end).ok_or(Refused)?;
        self.at = end;
        Ok(out)
    }

    /// The argument of a head with additional information `ai`; `None` for an indefinite length.
    fn argument(&mut self, ai: u8) -> Result<Option<u64>, Refused> {
        let (n, least) = match ai {
            0..=23 => return Ok(Some(u64::from(ai))),
            24 => (u64::from(self.byte()?), 24),
            25 => (u64::from(u16::from_be_bytes(self.fixed()?)), 256),
            26 => (u64::from(u32::from_be_bytes(self.fixed()?)), 65_536),
            27 => (u64::from_be_bytes(self.fixed()?), 1 << 32),
            31 => return Ok(None),
            _ => return Err(Refused),
        };
        if n < least && (self.on)(Profile::Shortest) {
            return Err(Refused);
        }
        Ok(Some(n))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Refused> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N as u64)?);
        Ok(out)
    }

    fn item(&mut self, depth: usize) -> Result<Item, Refused> {
        let head = self.byte()?;
        let (major, ai) = (head >> 5, head & 31);
        if major == 7 {
            if (self.on)(Profile::NoSimple) {
                return Err(Refused);
            }
            match ai {
                0..=23 => {}
                24 => {
                    self.byte()?;
                }
                25 => {
                    self.take(2)?;
                }
                26 => {
                    self.take(4)?;
                }
                27 => {
                    self.take(8)?;
                }
                _ => return Err(Refused),
            }
            return Ok(Item::Other);
        }
        let arg = self.argument(ai)?;
        if arg.is_none() && (major < 2 || major == 6 || (self.on)(Profile::Definite)) {
            return Err(Refused);
        }
        if matches!(major, 4 | 5) && depth > 4 && (self.on)(Profile::Depth) {
            return Err(Refused);
        }
        match major {
            0 => Ok(Item::Uint(arg.unwrap_or(0))),
            1 => Ok(Item::Nint(arg.unwrap_or(0))),
            2 | 3 => {
                let bytes = match arg {
                    Some(n) => self.take(n)?.to_vec(),
                    None => self.chunks(major)?,
                };
                if major == 2 {
                    return Ok(Item::Bytes(bytes));
                }
                match String::from_utf8(bytes) {
                    Ok(s) => Ok(Item::Text(s)),
                    Err(_) if (self.on)(Profile::Utf8) => Err(Refused),
                    Err(e) => Ok(Item::Text(
                        String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    )),
                }
            }
            4 => {
                let mut items = Vec::new();
                while self.more(arg, items.len())? {
                    let start = self.at;
                    items.push(self.item(depth + 1)?);
                    if depth == 1 {
                        self.children.push(self.bytes[start..self.at].to_vec());
                    }
                }
                Ok(Item::Array(items))
            }
            5 => {
                let mut entries: Vec<(Item, Item)> = Vec::new();
                let mut keys: Vec<Vec<u8>> = Vec::new();
                while self.more(arg, entries.len())? {
                    let start = self.at;
                    let key = self.item(depth + 1)?;
                    let encoded = self.bytes[start..self.at].to_vec();
                    if let Some(last) = keys.last()
                        && encoded < *last
                        && (self.on)(Profile::Sorted)
                    {
                        return Err(Refused);
                    }
                    if keys.contains(&encoded) && (self.on)(Profile::Unique) {
                        return Err(Refused);
                    }
                    keys.push(encoded);
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Ok(Item::Map(entries))
            }
            _ => {
                if (self.on)(Profile::NoTags) {
                    return Err(Refused);
                }
                self.item(depth)
            }
        }
    }

    /// Whether another element follows: `n` read so far of `count`, or until a break.
    fn more(&mut self, count: Option<u64>, n: usize) -> Result<bool, Refused> {
        match count {
            Some(count) => Ok((n as u64) < count),
            None => {
                if *self.bytes.get(self.at).ok_or(Refused)? == 0xFF {
                    self.at += 1;
                    Ok(false)
                } else {
                    Ok(true)
                }
            }
        }
    }

    /// An indefinite-length string's chunks, concatenated.
    fn chunks(&mut self, major: u8) -> Result<Vec<u8>, Refused> {
        let mut out = Vec::new();
        loop {
            let head = self.byte()?;
            if head == 0xFF {
                return Ok(out);
            }
            if head >> 5 != major {
                return Err(Refused);
            }
            let n = self.argument(head & 31)?.ok_or(Refused)?;
            out.extend_from_slice(self.take(n)?);
        }
    }
}
