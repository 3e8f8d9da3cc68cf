//! `convstats gen`: synthetic Intercom conversations (NDJSON) on stdout
//! (the generator is `crate::synth`).

use super::Failure;
use crate::synth::{GenParams, sample_config, write_all};
use anyhow::anyhow;
use std::io::{self, Write};

/// Writes `params.conversations` conversations to stdout, or the sample
/// configuration for the generated workspaces when `config_only`.
pub fn run(params: &GenParams, config_only: bool) -> Result<(), Failure> {
    params
        .validate()
        .map_err(|e| Failure::Usage(anyhow!("{e}")))?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let result = if config_only {
        out.write_all(sample_config(params.workspaces).as_bytes())
            .and_then(|()| out.flush())
    } else {
        write_all(params, &mut out).and_then(|()| out.flush())
    };
    match result {
        Ok(()) => Ok(()),
        // `convstats gen | head` is a normal way to look at a few lines.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Runtime(anyhow!("writing to stdout: {e}"))),
    }
}
