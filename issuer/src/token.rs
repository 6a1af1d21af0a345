//! Keys in a hardware security module, through PKCS#11: the root and signing keys (Ed25519,
//! `CKM_EDDSA`), the EU keys (ECDSA P-256, `CKM_ECDSA`) and the secret the vault is derived
//! from (HMAC-SHA-256) are made in the token as sensitive, non-extractable objects and are
//! used there; nothing secret of them ever reaches this process, the store or the disk.
//!
//! The store names a key kept in the token by its object id (`CKA_ID`, 16 random bytes) in
//! place of a sealed secret ([`in_token`]); the issuer's directory names the token
//! ([`TokenPlace`], `pkcs11.json`). One session, logged in with the user's PIN, serves the
//! process; the module's own locking keeps its calls apart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use serde::{Deserialize, Serialize};

use crate::error::{IssuerError, TokenError};
use crate::secret::random_bytes;

/// The file in the issuer's directory that names its token.
pub const PKCS11_FILE: &str = "pkcs11.json";

/// What the store holds in place of a sealed secret for a key kept in the token: this mark,
/// then the key's object id.
const MARK: &[u8] = b"pkcs11:";

/// `id-Ed25519` (RFC 8410), DER: the curve of the token's Ed25519 keys.
const ED25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// `prime256v1`, DER: the curve of the token's EU keys.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// What the issuer does in the token: Ed25519 and P-256 keys made and signing, HMAC-SHA-256.
const NEEDED: [MechanismType; 6] = [
    MechanismType::ECC_EDWARDS_KEY_PAIR_GEN,
    MechanismType::EDDSA,
    MechanismType::ECC_KEY_PAIR_GEN,
    MechanismType::ECDSA,
    MechanismType::GENERIC_SECRET_KEY_GEN,
    MechanismType::SHA256_HMAC,
];

/// The stored stand-in for the secret of a key kept in the token under `id`.
pub(crate) fn in_token(id: &[u8]) -> Vec<u8> {
    [MARK, id].concat()
}

/// The token object id of a key, when the store says it is kept in the token.
pub(crate) fn token_id(sealed: &[u8]) -> Option<&[u8]> {
    sealed.strip_prefix(MARK)
}

/// Where the token is: the PKCS#11 module (a shared library) and the token's label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPlace {
    /// The module's path (`PROPUSK_PKCS11_MODULE` overrides it on a machine that keeps it
    /// elsewhere).
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
}

impl TokenPlace {
    /// The token named in `dir`'s `pkcs11.json`, if the issuer keeps keys in one.
    pub fn read(dir: &Path) -> Result<Option<Self>, IssuerError> {
        let path = dir.join(PKCS11_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(IssuerError::io(&path, e)),
        };
        let mut place: TokenPlace =
            serde_json::from_slice(&bytes).map_err(|_| TokenError::Damaged(path))?;
        if let Some(module) = std::env::var_os("PROPUSK_PKCS11_MODULE") {
            place.module = module.into();
        }
        Ok(Some(place))
    }

    /// Writes `pkcs11.json` into `dir`.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), IssuerError> {
        let path = dir.join(PKCS11_FILE);
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        propusk_trust_list::write_atomically(&path, &json).map_err(|e| IssuerError::io(&path, e))
    }
}

/// A logged-in session with the token. `Debug` shows its label only; the PIN is not kept.
pub struct Token {
    place: TokenPlace,
    session: Mutex<Session>,
    /// Object handles found so far, by class and id.
    handles: Mutex<HashMap<(u64, Vec<u8>), ObjectHandle>>,
    _module: Pkcs11,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("token", &self.place.token)
            .finish_non_exhaustive()
    }
}

fn refused(e: cryptoki::error::Error) -> IssuerError {
    use cryptoki::error::{Error, RvError};
    match e {
        Error::Pkcs11(RvError::PinIncorrect, _) => TokenError::WrongPin.into(),
        Error::Pkcs11(RvError::PinLocked, _) => TokenError::PinLocked.into(),
        Error::Pkcs11(RvError::MechanismInvalid, _) => {
            TokenError::Unsupported(e.to_string()).into()
        }
        e => TokenError::Refused(e.to_string()).into(),
    }
}

/// The point inside a `CKA_EC_POINT`: modules give it DER-wrapped (an OCTET STRING) or bare.
fn point(value: &[u8], len: usize) -> Option<&[u8]> {
    match value {
        bare if bare.len() == len => Some(bare),
        [0x04, n, inner @ ..] if usize::from(*n) == len && inner.len() == len => Some(inner),
        _ => None,
    }
}

/// The module at `path`, loaded and initialised once per process.
fn module(path: &Path) -> Result<Pkcs11, IssuerError> {
    static LOADED: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, module)) = loaded.iter().find(|(p, _)| p == path) {
        return Ok(module.clone());
    }
    let module = Pkcs11::new(path).map_err(|e| TokenError::Module {
        module: path.to_path_buf(),
        why: e.to_string(),
    })?;
    module
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(refused)?;
    loaded.push((path.to_path_buf(), module.clone()));
    Ok(module)
}

impl Token {
    /// Loads the module (once per process: PKCS#11 allows one initialisation), finds the token
    /// by its label and logs in with `pin`.
    pub fn open(place: TokenPlace, pin: &str) -> Result<Self, IssuerError> {
        let module = module(&place.module)?;
        let mut found = None;
        for slot in module.get_slots_with_token().map_err(refused)? {
            let info = module.get_token_info(slot).map_err(refused)?;
            if info.label().trim_end() == place.token {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| TokenError::NoToken(place.token.clone()))?;
        let offered = module.get_mechanism_list(slot).map_err(refused)?;
        let missing: Vec<String> = NEEDED
            .iter()
            .filter(|m| !offered.contains(m))
            .map(|m| m.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(TokenError::Unsupported(missing.join(", ")).into());
        }
        let session = module.open_rw_session(slot).map_err(refused)?;
        session
            .login(UserType::User, Some(&AuthPin::from(pin)))
            .map_err(refused)?;
        Ok(Token {
            place,
            session: Mutex::new(session),
            handles: Mutex::new(HashMap::new()),
            _module: module,
        })
    }

    /// Where the token is.
    pub fn place(&self) -> &TokenPlace {
        &self.place
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new random object id.
    fn new_id() -> Result<Vec<u8>, IssuerError> {
        let mut id = vec![0u8; 16];
        random_bytes(&mut id)?;
        Ok(id)
    }

    /// The attributes of a new private or secret key: kept in the token, usable only after
    /// login, never readable nor exportable.
    fn secret_attributes(id: &[u8], label: &str) -> Vec<Attribute> {
        vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Id(id.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ]
    }

    /// A new key pair on `curve` (DER parameters); returns its id and its public point.
    fn new_pair(
        &self,
        generate: Mechanism<'_>,
        curve: &[u8],
        point_len: usize,
        label: &str,
    ) -> Result<(Vec<u8>, Vec<u8>), IssuerError> {
        let id = Self::new_id()?;
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(curve.to_vec()),
            Attribute::Id(id.clone()),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let session = self.session();
        let (public, _) = session
            .generate_key_pair(&generate, &public, &Self::secret_attributes(&id, label))
            .map_err(refused)?;
        let value = session
            .get_attributes(public, &[AttributeType::EcPoint])
            .map_err(refused)?;
        let Some(Attribute::EcPoint(value)) = value.into_iter().next() else {
            return Err(TokenError::Refused("the new key has no public point".into()).into());
        };
        let point = point(&value, point_len)
            .ok_or_else(|| TokenError::Refused("the new key's public point is malformed".into()))?;
        Ok((id, point.to_vec()))
    }

    /// A new Ed25519 key: its id and public key.
    pub(crate) fn new_ed25519(&self, label: &str) -> Result<(Vec<u8>, [u8; 32]), IssuerError> {
        let (id, point) =
            self.new_pair(Mechanism::EccEdwardsKeyPairGen, ED25519_PARAMS, 32, label)?;
        let public = point
            .try_into()
            .map_err(|_| TokenError::Refused("an Ed25519 key of the wrong size".into()))?;
        Ok((id, public))
    }

    /// A new P-256 key: its id and public key (SEC1 uncompressed).
    pub(crate) fn new_p256(&self, label: &str) -> Result<(Vec<u8>, Vec<u8>), IssuerError> {
        self.new_pair(Mechanism::EccKeyPairGen, P256_PARAMS, 65, label)
    }

    /// A new HMAC secret (32 bytes) under `id`.
    pub(crate) fn new_secret(&self, id: &[u8], label: &str) -> Result<(), IssuerError> {
        let mut template = Self::secret_attributes(id, label);
        template.extend([
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::ValueLen(32.into()),
        ]);
        self.session()
            .generate_key(&Mechanism::GenericSecretKeyGen, &template)
            .map_err(refused)?;
        Ok(())
    }

    /// The object of `class` under `id`.
    fn handle(&self, class: ObjectClass, id: &[u8]) -> Result<ObjectHandle, IssuerError> {
        let key = (u64::from(class), id.to_vec());
        let mut handles = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(handle) = handles.get(&key) {
            return Ok(*handle);
        }
        let found = self
            .session()
            .find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
            .map_err(refused)?;
        let handle = *found.first().ok_or_else(|| TokenError::NoKey {
            token: self.place.token.clone(),
            id: propusk_spec::hex::encode(id),
        })?;
        handles.insert(key, handle);
        Ok(handle)
    }

    fn sign(
        &self,
        mechanism: &Mechanism<'_>,
        class: ObjectClass,
        id: &[u8],
        data: &[u8],
    ) -> Result<Vec<u8>, IssuerError> {
        let key = self.handle(class, id)?;
        self.session().sign(mechanism, key, data).map_err(refused)
    }

    /// An Ed25519 signature of `message` by the key `id`.
    pub(crate) fn sign_ed25519(&self, id: &[u8], message: &[u8]) -> Result<[u8; 64], IssuerError> {
        let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let signature = self.sign(&mechanism, ObjectClass::PRIVATE_KEY, id, message)?;
        signature.try_into().map_err(|_| {
            TokenError::Refused("an Ed25519 signature of the wrong size".into()).into()
        })
    }

    /// An ECDSA P-256 signature (`r ‖ s`) of a SHA-256 digest by the key `id`.
    pub(crate) fn sign_p256(&self, id: &[u8], digest: &[u8; 32]) -> Result<[u8; 64], IssuerError> {
        let signature = self.sign(&Mechanism::Ecdsa, ObjectClass::PRIVATE_KEY, id, digest)?;
        signature
            .try_into()
            .map_err(|_| TokenError::Refused("an ECDSA signature of the wrong size".into()).into())
    }

    /// HMAC-SHA-256 of `data` under the secret `id`.
    pub(crate) fn hmac(
        &self,
        id: &[u8],
        data: &[u8],
    ) -> Result<zeroize::Zeroizing<[u8; 32]>, IssuerError> {
        let mac = zeroize::Zeroizing::new(self.sign(
            &Mechanism::Sha256Hmac,
            ObjectClass::SECRET_KEY,
            id,
            data,
        )?);
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        if mac.len() != 32 {
            return Err(TokenError::Refused("an HMAC of the wrong size".into()).into());
        }
        out.copy_from_slice(&mac);
        Ok(out)
    }
}

/// A P-256 key kept in the token, as the EU DCC code signs with it.
pub(crate) struct TokenEcKey {
    pub(crate) token: std::sync::Arc<Token>,
    pub(crate) id: Vec<u8>,
    pub(crate) public: Vec<u8>,
}

impl propusk_eudcc::EcSign for TokenEcKey {
    fn public_sec1(&self) -> Vec<u8> {
        self.public.clone()
    }

    fn sign_digest(&self, digest: &[u8; 32]) -> Result<[u8; 64], String> {
        self.token
            .sign_p256(&self.id, digest)
            .map_err(|e| e.to_string())
    }
}
