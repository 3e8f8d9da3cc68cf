//! backfill
