//! The portal's concurrent reads on PostgreSQL.
//!
//! Credential lookups, the portal's hot path, are gathered: each request puts its id in a queue
//! and waits; a few worker threads, each with a connection of its own, take everything waiting
//! (up to [`Gathered::BATCH`] ids) and answer it with one `id = ANY($1)` query. Under load one
//! round trip answers dozens of requests, so the database spends its time finding rows rather
//! than parsing messages and waking processes; when idle, a lookup is one query as before.
//!
//! The rarer reads (the newest publication and its files) use a bounded pool of connections,
//! each opened when needed: at most [`PgLookup::MAX`] at once (more would only make the
//! database's processes fight over the cores). A connection that failed is dropped, so that
//! both heal when the database returns.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

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
}

/// The queue of lookups and whether the workers should stop.
#[derive(Default)]
struct Queue {
    /// Oldest first: a batch takes from the front, so no lookup waits behind newer ones.
    waiting: VecDeque<Waiting>,
    closed: bool,
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

    fn start(url: &str) -> Arc<Self> {
        let gathered = Arc::new(Gathered {
            queue: Mutex::new(Queue::default()),
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
        match self.queue.lock() {
            Ok(mut queue) => queue.waiting.push_back(Waiting {
                id: id.to_string(),
                reply,
            }),
            Err(_) => return reply(Err(PgLookup::poisoned())),
        }
        self.arrived.notify_one();
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
            queue = self.arrived.wait(queue).ok()?;
        }
        if queue.closed {
            return None;
        }
        let take = queue.waiting.len().min(Self::BATCH);
        let batch: Vec<Waiting> = queue.waiting.drain(..take).collect();
        if !queue.waiting.is_empty() {
            // More than one batch waits: another worker takes the rest.
            self.arrived.notify_one();
        }
        Some(batch)
    }

    fn work(&self, url: &str) {
        let mut conn: Option<Conn> = None;
        while let Some(batch) = self.next() {
            let ids: Vec<String> = batch.iter().map(|w| w.id.clone()).collect();
            let rows = match conn.take().filter(|c| !c.is_closed()) {
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
            if let Some(conn) = pool.idle.pop() {
                if !conn.is_closed() {
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
