use std::sync::Arc;
use std::sync::atomic::AtomicU64;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let t = std::time::Instant::now();
    let src = convstats::input::open(&path, Arc::new(AtomicU64::new(0))).unwrap();
    let mut b = convstats::input::Blocks::new(0, src);
    let mut n = 0;
    while let Some(_x) = b.next_block().unwrap() { n += 1; }
    eprintln!("read blocks {n}: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let l = convstats::load::load(&[path.clone()], &convstats::load::Quiet).unwrap();
    eprintln!("load: {:?} ({} convs)", t.elapsed(), l.conversations.len());
    let t = std::time::Instant::now();
    drop(l);
    eprintln!("drop: {:?}", t.elapsed());
}
