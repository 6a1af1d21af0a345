//! A token bucket per client address, in bounded memory: `rate` lookups in a burst and per
//! minute. At most `capacity` addresses have a bucket of their own; past that (an
//! address-rotating flood), idle buckets are dropped, and while the map is still full every new
//! address shares one overflow bucket — the flood throttles itself, known clients keep theirs.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Addresses with a bucket of their own, by default.
pub const CAPACITY: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    seen: Instant,
}

/// The per-client rate limiter.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    capacity: usize,
    buckets: HashMap<IpAddr, Bucket>,
    overflow: Option<Bucket>,
    pruned: Option<Instant>,
}

impl Limiter {
    /// `rate` lookups per client in a burst and per minute (0: no limit); at most `capacity`
    /// clients with a bucket of their own.
    pub fn new(rate: u32, capacity: usize) -> Self {
        Limiter {
            rate: f64::from(rate),
            capacity: capacity.max(1),
            buckets: HashMap::new(),
            overflow: None,
            pruned: None,
        }
    }

    /// Clients with a bucket of their own.
    pub fn clients(&self) -> usize {
        self.buckets.len()
    }

    /// Takes one token for `ip`; `false` when its bucket is empty.
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        if !self.buckets.contains_key(&ip) && self.buckets.len() >= self.capacity {
            self.prune(now);
        }
        let rate = self.rate;
        let bucket = if self.buckets.len() < self.capacity || self.buckets.contains_key(&ip) {
            self.buckets.entry(ip).or_insert(Bucket {
                tokens: rate,
                seen: now,
            })
        } else {
            self.overflow.get_or_insert(Bucket {
                tokens: rate,
                seen: now,
            })
        };
        take(bucket, rate, now)
    }

    /// Drops the buckets idle for a minute (they have refilled: the same as none), at most once a
    /// second.
    fn prune(&mut self, now: Instant) {
        if self
            .pruned
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.pruned = Some(now);
        self.buckets
            .retain(|_, b| now.duration_since(b.seen) < Duration::from_secs(60));
    }
}

fn take(bucket: &mut Bucket, rate: f64, now: Instant) -> bool {
    let refill = now.duration_since(bucket.seen).as_secs_f64() * rate / 60.0;
    bucket.tokens = (bucket.tokens + refill).min(rate);
    bucket.seen = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(n.to_be_bytes())
    }

    #[test]
    fn a_client_gets_its_burst_then_waits() {
        let mut l = Limiter::new(3, 10);
        let t = Instant::now();
        assert!((0..3).all(|_| l.allow(ip(1), t)));
        assert!(!l.allow(ip(1), t));
        assert!(l.allow(ip(2), t), "another client has its own bucket");
        assert!(
            l.allow(ip(1), t + Duration::from_secs(20)),
            "a token back in 20 s"
        );
    }

    #[test]
    fn an_address_rotating_flood_stays_in_bounded_memory() {
        let mut l = Limiter::new(30, 1_000);
        let t = Instant::now();
        assert!(l.allow(ip(7), t));
        let allowed = (100..200_100).filter(|&n| l.allow(ip(n), t)).count();
        assert!(l.clients() <= 1_000, "{} buckets", l.clients());
        // The flood shares one overflow bucket once the map is full.
        assert!(allowed < 1_000 + 30, "{allowed} allowed");
        assert!(l.allow(ip(7), t), "a known client keeps its bucket");
        // A minute later the idle buckets go, and new clients get their own again.
        let later = t + Duration::from_secs(61);
        assert!(l.allow(ip(300_000), later));
        assert!(l.clients() < 1_000);
    }
}
