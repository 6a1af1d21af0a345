//! The portal's concurrent reads on PostgreSQL.
//!
//! Credential lookups, the portal's hot path, are gathered: each request puts its id in a queue
//! and waits; a few worker threads, each with a connection of its own, take everything waiting
//! (up to [`Gathered::BATCH`] ids) and answer it with one `id = ANY($1)` query. Under load one
//! round trip answers dozens of requests, so the database spends its time finding rows rather
//! than parsing messages and waking processes; when idle, a lookup is one query as before.
//! While a worker is at work, what arrives waits for its next batch; another worker is woken
//! only when a whole batch waits. Waking one per arrival made batches of one or two and spent
//! the cores on switching threads and database processes: on the 2-core machine two servers
//! over 10,000,000 credentials answered 29,000 pages a second that way, 48,600 this way
//! (`scripts/load-pg.sh`, 10,000 ids).
//!
//! The rarer reads (the newest publication and its files) use a bounded pool of connections,
//! each opened when needed: at most [`PgLookup::MAX`] at once (more would only make the
//! database's processes fight over the cores). A connection that failed is dropped, so that
//! both heal when the database returns.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use postgres::Row;
use propusk_spec::CredentialId;

use super::conn::Conn;
use super::connect;
use super::rows::{credential_record, select_credentials};
use crate::error::StoreError;
use crate::store::{CredentialRecord, Lookup, Reply};

type Answer = Result<Option<CredentialRecord>, StoreError>;

/// A lookup waiting for its answer.
struct Waiting {
    id: String,
    reply: Reply,
    since: Instant,
}

/// The queue of lookups and whether the workers should stop.
#[derive(Default)]
struct Queue {
    /// Oldest first: a batch takes from the front, so no lookup waits behind newer ones.
    waiting: VecDeque<Waiting>,
    closed: bool,
    /// Workers running (one that panicked no longer counts).
    alive: usize,
    /// Of those, the ones waiting for lookups.
    sleeping: usize,
    /// Of those, how many have been woken and not yet taken it (at most `sleeping`).
    woken: usize,
}

impl Queue {
    /// Whether a sleeping worker should be woken for what waits: none is awake to take it, more
    /// waits than the ones awake take in a batch each, or the oldest has waited so long that the
    /// ones awake are not taking it (a slow or stuck query).
    fn wants_another(&self, now: Instant) -> bool {
        let awake = self.alive.saturating_sub(self.sleeping) + self.woken;
        let stalled = self
            .waiting
            .front()
            .is_some_and(|w| now.duration_since(w.since) >= Gathered::STALLED);
        self.sleeping > self.woken
            && (awake == 0 || stalled || self.waiting.len() >= Gathered::BATCH * awake)
    }

    /// Counts a sleeping worker woken if one is wanted; the caller then notifies it.
    fn wake_one(&mut self, now: Instant) -> bool {
        let wake = self.wants_another(now);
        if wake {
            self.woken += 1;
        }
        wake
    }
}

/// Credential lookups gathered into batches by worker threads.
struct Gathered {
    queue: Mutex<Queue>,
    arrived: Condvar,
}

impl Gathered {
    /// Worker threads (and connections) per server.
    const WORKERS: usize = 4;
    /// Ids answered by one query at most.
    const BATCH: usize = 256;
    /// A lookup waiting this long wakes another worker.
    const STALLED: Duration = Duration::from_millis(100);

    fn start(url: &str) -> Arc<Self> {
        let gathered = Arc::new(Gathered {
            queue: Mutex::new(Queue {
                alive: Self::WORKERS,
                ..Queue::default()
            }),
            arrived: Condvar::new(),
        });
        for _ in 0..Self::WORKERS {
            let (gathered, url) = (gathered.clone(), url.to_owned());
            thread::spawn(move || gathered.work(&url));
        }
        gathered
    }

    /// Queues a lookup; `reply` hears the answer from a worker.
    fn ask(&self, id: &CredentialId, reply: Reply) {
        let wake = match self.queue.lock() {
            Ok(mut queue) => {
                let now = Instant::now();
                queue.waiting.push_back(Waiting {
                    id: id.to_string(),
                    reply,
                    since: now,
                });
                queue.wake_one(now)
            }
            Err(_) => return reply(Err(PgLookup::poisoned())),
        };
        if wake {
            self.arrived.notify_one();
        }
    }

    /// Queues a lookup and waits for its answer.
    fn wait(&self, id: &CredentialId) -> Answer {
        let (sender, answer) = sync_channel(1);
        self.ask(
            id,
            Box::new(move |a| {
                let _ = sender.send(a);
            }),
        );
        answer
            .recv()
            .map_err(|_| StoreError::Unavailable("the lookup's worker stopped".into()))?
    }

    /// The next batch, or `None` when the lookups are closed.
    fn next(&self) -> Option<Vec<Waiting>> {
        let mut queue = self.queue.lock().ok()?;
        while queue.waiting.is_empty() && !queue.closed {
            queue.sleeping += 1;
            // A poisoned lock still guards consistent counts (nothing panics holding it).
            queue = self
                .arrived
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queue.sleeping -= 1;
            // Woken by `ask`, or spuriously: either way awake now.
            queue.woken = queue.woken.saturating_sub(1);
        }
        if queue.closed {
            return None;
        }
        let take = queue.waiting.len().min(Self::BATCH);
        let batch: Vec<Waiting> = queue.waiting.drain(..take).collect();
        Some(batch)
    }

    fn work(&self, url: &str) {
        let _alive = Alive(self);
        let mut conn: Option<Conn> = None;
        while let Some(batch) = self.next() {
            let ids: Vec<String> = batch.iter().map(|w| w.id.clone()).collect();
            use std::sync::atomic::Ordering::Relaxed;
            crate::store::figures::GATHERED_BATCHES.fetch_add(1, Relaxed);
            crate::store::figures::GATHERED_LOOKUPS.fetch_add(ids.len() as u64, Relaxed);
            let rows = match conn.take().and_then(|mut c| (!c.is_gone()).then_some(c)) {
                Some(c) => Ok(c),
                None => open(url),
            }
            .and_then(|mut c| {
                let rows = select_credentials(&mut c, &ids)?;
                conn = Some(c);
                Ok(rows)
            });
            answer(batch, rows);
        }
    }

    fn close(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.closed = true;
        }
        self.arrived.notify_all();
    }
}

/// Counts its worker out when the worker ends, by return or by panic: lookups are then woken
/// for the others.
struct Alive<'a>(&'a Gathered);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        let mut queue = match self.0.queue.lock() {
            Ok(queue) => queue,
            Err(poisoned) => poisoned.into_inner(),
        };
        queue.alive = queue.alive.saturating_sub(1);
        if queue.wake_one(Instant::now()) {
            self.0.arrived.notify_one();
        }
    }
}

/// A worker's connection. Its one statement, `id = ANY($1)`, has one good plan whatever the ids:
/// planned once, not at every batch (the database would otherwise plan each of the first
/// executions afresh and keep weighing a custom plan).
fn open(url: &str) -> Result<Conn, StoreError> {
    let mut conn = Conn::new(connect(url)?);
    conn.batch_execute("SET plan_cache_mode = force_generic_plan")?;
    Ok(conn)
}

/// Each waiting lookup's row (or none), or the query's failure for all of them.
fn answer(batch: Vec<Waiting>, rows: Result<Vec<Row>, StoreError>) {
    match rows {
        Ok(rows) => {
            let by_id: HashMap<&str, &Row> = rows.iter().map(|r| (r.get(0), r)).collect();
            for w in batch {
                let record = by_id.get(w.id.as_str()).map(|r| credential_record(r));
                (w.reply)(record.transpose());
            }
        }
        Err(e) => {
            let unavailable = e.is_unavailable();
            let said = e.to_string();
            for w in batch {
                (w.reply)(Err(if unavailable {
                    StoreError::Unavailable(said.clone())
                } else {
                    StoreError::Query(said.clone())
                }));
            }
        }
    }
}

/// Idle connections, and how many are open in all (idle or in use).
struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

pub(super) struct PgLookup {
    url: String,
    pool: Mutex<Pool>,
    freed: Condvar,
    gathered: Arc<Gathered>,
}

impl Drop for PgLookup {
    fn drop(&mut self) {
        self.gathered.close();
    }
}

impl PgLookup {
    /// Connections open at most, per server.
    const MAX: usize = 8;

    pub(super) fn new(url: &str) -> Self {
        PgLookup {
            url: url.to_owned(),
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            gathered: Gathered::start(url),
        }
    }

    fn poisoned() -> StoreError {
        StoreError::Unavailable("the connection pool's lock is poisoned".into())
    }

    /// A connection: an idle one, a new one while fewer than `MAX` are open, else the next one
    /// freed.
    fn take(&self) -> Result<Conn, StoreError> {
        let mut pool = self.pool.lock().map_err(|_| Self::poisoned())?;
        loop {
            if let Some(mut conn) = pool.idle.pop() {
                if !conn.is_gone() {
                    return Ok(conn);
                }
                pool.open -= 1;
                continue;
            }
            if pool.open < Self::MAX {
                pool.open += 1;
                drop(pool);
                return connect(&self.url).map(Conn::new).inspect_err(|_| {
                    if let Ok(mut pool) = self.pool.lock() {
                        pool.open -= 1;
                    }
                    self.freed.notify_one();
                });
            }
            pool = self.freed.wait(pool).map_err(|_| Self::poisoned())?;
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.take()?;
        let result = f(&mut conn);
        if let Ok(mut pool) = self.pool.lock() {
            if result.is_ok() {
                pool.idle.push(conn);
            } else {
                // It may be broken: opened anew next time.
                pool.open -= 1;
            }
        }
        self.freed.notify_one();
        result
    }
}

impl Lookup for PgLookup {
    fn credential(&self, id: &CredentialId) -> Result<Option<CredentialRecord>, StoreError> {
        self.gathered.wait(id)
    }

    fn gather(&self, id: &CredentialId, reply: Reply) -> Result<(), Reply> {
        self.gathered.ask(id, reply);
        Ok(())
    }

    fn latest_publication(&self) -> Result<Option<u64>, StoreError> {
        self.with(|c| {
            let last: Option<i64> = c
                .query_one("SELECT max(sequence) FROM publications", &[])?
                .get(0);
            last.map(|s| u64::try_from(s).map_err(|_| StoreError::Corrupt("a negative sequence")))
                .transpose()
        })
    }

    fn publication_files(&self, sequence: u64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let sequence =
            i64::try_from(sequence).map_err(|_| StoreError::Corrupt("a sequence out of range"))?;
        self.with(|c| {
            Ok(c.query(
                "SELECT name, bytes FROM publication_files WHERE sequence = $1",
                &[&sequence],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(alive: usize, sleeping: usize, woken: usize, waiting: usize) -> Queue {
        let mut queue = Queue {
            alive,
            sleeping,
            woken,
            ..Queue::default()
        };
        for _ in 0..waiting {
            queue.waiting.push_back(Waiting {
                id: String::new(),
                reply: Box::new(|_| {}),
                since: Instant::now(),
            });
        }
        queue
    }

    /// `queue(…).wants_another` now.
    fn wants(q: Queue) -> bool {
        q.wants_another(Instant::now())
    }

    #[test]
    fn a_worker_is_woken_only_when_none_awake_would_take_what_waits() {
        // All asleep: the first lookup wakes one.
        assert!(wants(queue(4, 4, 0, 1)));
        // One already woken for it: the next lookups gather for its batch.
        assert!(!wants(queue(4, 4, 1, 2)));
        // One at work: lookups gather for its next batch, up to a whole batch.
        assert!(!wants(queue(4, 3, 0, Gathered::BATCH - 1)));
        assert!(wants(queue(4, 3, 0, Gathered::BATCH)));
        // Two awake take two batches.
        assert!(!wants(queue(4, 2, 0, 2 * Gathered::BATCH - 1)));
        // Nobody left asleep to wake, however much waits.
        assert!(!wants(queue(4, 0, 0, 10 * Gathered::BATCH)));
        assert!(!wants(queue(4, 1, 1, 10 * Gathered::BATCH)));
        // A worker that died is not counted awake: the sleeping one is woken.
        assert!(wants(queue(3, 3, 0, 1)));
    }

    #[test]
    fn a_lookup_left_waiting_by_a_stuck_worker_wakes_another() {
        let q = queue(4, 3, 0, 1);
        let later = q.waiting[0].since + Gathered::STALLED;
        assert!(!q.wants_another(later - Duration::from_millis(1)));
        assert!(q.wants_another(later));
        // Still only while someone sleeps.
        let q = queue(4, 0, 0, 1);
        assert!(!q.wants_another(q.waiting[0].since + Gathered::STALLED));
    }
}
