//! Rate limits on the operations that check a password or create an
//! account: a guesser gets a few tries and then waits, for the account and
//! for the address they come from, before any hashing work is done.
//!
//! Each limit is a GCRA bucket per key (the `governor` crate): `burst`
//! attempts at once, then one more every `every`. Every attempt counts,
//! including each alias of a multi-field request, since every one reaches
//! the service on its own. Buckets of keys that have refilled are dropped
//! now and then, so a flood of made-up usernames cannot grow the maps.

use std::{
    fmt,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Weak},
    time::Duration,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use crate::{
    Service,
    error::{Error, Result},
};

/// How often buckets that are full again are dropped.
const JANITOR_EVERY: Duration = Duration::from_secs(60);

/// `burst` attempts at once, then one more every `every`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub burst: NonZeroU32,
    pub every: Duration,
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:?}", self.burst, self.every)
    }
}

/// The limits the operator sets; `None` turns one off.
#[derive(Clone, Debug)]
pub struct RateLimits {
    /// Password checks (login, changePassword) per account.
    pub login_per_account: Option<Rate>,
    /// Password checks per client address.
    pub login_per_address: Option<Rate>,
    /// Registrations per client address.
    pub register_per_address: Option<Rate>,
}

impl Default for RateLimits {
    /// Synapse's per-account login limit (3, then one per ~6 s); a
    /// per-address one that lets an office behind one NAT sign in.
    fn default() -> Self {
        let rate = |burst, secs| {
            NonZeroU32::new(burst).map(|burst| Rate {
                burst,
                every: Duration::from_secs(secs),
            })
        };
        Self {
            login_per_account: rate(3, 6),
            login_per_address: rate(10, 6),
            register_per_address: rate(5, 60),
        }
    }
}

impl RateLimits {
    /// No limits at all (tests that register many users from one address).
    pub fn off() -> Self {
        Self {
            login_per_account: None,
            login_per_address: None,
            register_per_address: None,
        }
    }
}

type Limiter<K> = Option<Arc<DefaultKeyedRateLimiter<K>>>;

/// The running limiters; clones share the buckets.
#[derive(Clone, Default)]
pub(crate) struct Limiters {
    account: Limiter<String>,
    address: Limiter<IpAddr>,
    register: Limiter<IpAddr>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(rate: Option<Rate>) -> Limiter<K> {
    let rate = rate?;
    let quota = Quota::with_period(rate.every)?.allow_burst(rate.burst);
    Some(Arc::new(RateLimiter::keyed(quota)))
}

impl Limiters {
    /// Must be called inside a Tokio runtime: it starts the janitor.
    pub fn start(limits: &RateLimits) -> Self {
        let limiters = Self {
            account: limiter(limits.login_per_account),
            address: limiter(limits.login_per_address),
            register: limiter(limits.register_per_address),
        };
        let mut alive: Vec<Box<dyn Fn() -> bool + Send>> = Vec::new();
        push_janitor(&mut alive, &limiters.account);
        push_janitor(&mut alive, &limiters.address);
        push_janitor(&mut alive, &limiters.register);
        if !alive.is_empty() {
            tokio::spawn(async move {
                let mut every = tokio::time::interval(JANITOR_EVERY);
                loop {
                    every.tick().await;
                    // Stops with the app: once its limiters are gone.
                    let mut any = false;
                    for retain in &alive {
                        any |= retain();
                    }
                    if !any {
                        return;
                    }
                }
            });
        }
        limiters
    }
}

/// Adds a job that drops `limiter`'s full buckets and says whether the
/// limiter is still there; it holds the limiter weakly.
fn push_janitor<K: std::hash::Hash + Eq + Clone + Send + Sync + 'static>(
    jobs: &mut Vec<Box<dyn Fn() -> bool + Send>>,
    limiter: &Limiter<K>,
) {
    if let Some(limiter) = limiter {
        let weak: Weak<DefaultKeyedRateLimiter<K>> = Arc::downgrade(limiter);
        jobs.push(Box::new(move || match weak.upgrade() {
            Some(limiter) => {
                limiter.retain_recent();
                true
            }
            None => false,
        }));
    }
}

/// Takes one attempt from `key`'s bucket, or says how long to wait.
fn take<K: std::hash::Hash + Eq + Clone>(limiter: &Limiter<K>, key: &K) -> Result<()> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter
        .check_key(key)
        .map_err(|not_until| Error::RateLimited {
            retry_after: not_until.wait_time_from(limiter.clock().now()),
        })
}

/// The key of a client address: IPv6 clients usually own a whole /64, so
/// its other addresses must share one bucket.
pub fn address_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

impl Service {
    /// Counts a password check for `account` (a username key) from
    /// `client`; `RateLimited` when either has used up its attempts.
    pub(crate) fn limit_password_check(&self, client: Option<IpAddr>, account: &str) -> Result<()> {
        if let Some(addr) = client {
            take(&self.limiters.address, &address_key(addr))?;
        }
        take(&self.limiters.account, &account.to_owned())
    }

    /// Counts a registration from `client`.
    pub(crate) fn limit_registration(&self, client: Option<IpAddr>) -> Result<()> {
        match client {
            Some(addr) => take(&self.limiters.register, &address_key(addr)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_bucket_empties_and_says_when_to_come_back() {
        let limiter = limiter::<String>(Some(Rate {
            burst: NonZeroU32::new(2).unwrap(),
            every: Duration::from_secs(5),
        }));
        let key = "alice".to_owned();
        assert!(take(&limiter, &key).is_ok());
        assert!(take(&limiter, &key).is_ok());
        match take(&limiter, &key) {
            Err(Error::RateLimited { retry_after }) => {
                assert!(
                    retry_after > Duration::from_secs(3) && retry_after <= Duration::from_secs(5)
                );
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert!(take(&limiter, &"bob".to_owned()).is_ok());
    }
}
