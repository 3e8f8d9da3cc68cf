//! [`write_all`]: every conversation of a data set, in index order, as NDJSON
//! on a writer. Chunks of conversations are generated in parallel on the
//! rayon pool while the calling thread writes the previous batch.

use std::io::{self, Write};
use std::sync::mpsc;

use rayon::prelude::*;

use super::params::GenParams;
use super::render::write_conversation;

/// Conversations per unit of parallel work.
const CHUNK: u64 = 512;

/// Streams all conversations in index order to `w`. Generation runs on the
/// rayon pool in batches of chunks while the calling thread writes the
/// previous batch; at most three batches (a few MB each) are in memory, so
/// any number of conversations streams. The output equals writing
/// [`write_conversation`] for every index in order, whatever the threading.
pub fn write_all(params: &GenParams, w: &mut dyn Write) -> io::Result<()> {
    let n = params.conversations;
    if n == 0 {
        return w.flush();
    }
    let per_batch = CHUNK * (rayon::current_num_threads().max(1) as u64) * 2;
    if rayon::current_thread_index().is_some() {
        // Called on a rayon worker: blocking it on a channel could starve the
        // pool, so generate each batch in the pool and write it here.
        let mut start = 0u64;
        while start < n {
            let end = start.saturating_add(per_batch).min(n);
            for chunk in generate_batch(params, start, end) {
                w.write_all(&chunk)?;
            }
            start = end;
        }
        return w.flush();
    }
    let result = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Vec<Vec<u8>>>(1);
        let producer = scope.spawn(move || {
            let mut start = 0u64;
            while start < n {
                let end = start.saturating_add(per_batch).min(n);
                let batch = generate_batch(params, start, end);
                if tx.send(batch).is_err() {
                    return; // the writer stopped
                }
                start = end;
            }
        });
        let mut result = Ok(());
        'recv: for batch in rx.iter() {
            for chunk in &batch {
                if let Err(e) = w.write_all(chunk) {
                    result = Err(e);
                    break 'recv;
                }
            }
        }
        drop(rx);
        if producer.join().is_err() && result.is_ok() {
            result = Err(io::Error::other("the generator thread failed"));
        }
        result
    });
    result?;
    w.flush()
}

/// Conversations `start..end`, generated in parallel chunks, in order.
fn generate_batch(params: &GenParams, start: u64, end: u64) -> Vec<Vec<u8>> {
    let chunks: Vec<(u64, u64)> = (start..end)
        .step_by(CHUNK as usize)
        .map(|a| (a, a.saturating_add(CHUNK).min(end)))
        .collect();
    chunks
        .into_par_iter()
        .map(|(a, b)| {
            let mut buf = Vec::with_capacity((b - a) as usize * 4608);
            for i in a..b {
                write_conversation(params, i, &mut buf);
            }
            buf
        })
        .collect()
}
