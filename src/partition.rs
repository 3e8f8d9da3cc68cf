//! The stable partition of a conversation: one of P partitions, from a hash
//! of its workspace id and conversation id that never changes between
//! versions, builds or machines (FNV-1a, 64 bits), so a state store created
//! once keeps its layout, and several workers (or spill files) can split
//! conversations the same way. Pure.

use crate::record::ConversationKey;

/// The partition count of a store when none is given.
pub const DEFAULT_PARTITIONS: u32 = 64;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn hash(key: &ConversationKey) -> u64 {
    // 0xFF never occurs in UTF-8, so ("a", "bc") and ("ab", "c") differ.
    let h = fnv1a(FNV_OFFSET, key.workspace_id.as_bytes());
    let h = fnv1a(h, &[0xFF]);
    fnv1a(h, key.id.as_bytes())
}

/// The partition of `key` among `partitions` (at least 1).
pub fn of(key: &ConversationKey, partitions: u32) -> u32 {
    (hash(key) % u64::from(partitions.max(1))) as u32
}

/// Where `key` goes when its partition is split again into `parts` (at
/// least 1) at split `level` (1, 2, ...): the stable hash, mixed with the
/// level (splitmix64's finaliser), so that the conversations of one
/// partition spread over the parts whatever the partition count was.
pub fn split(key: &ConversationKey, level: u32, parts: u32) -> u32 {
    let mut z = hash(key) ^ u64::from(level).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % u64::from(parts.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ws: &str, id: &str) -> ConversationKey {
        ConversationKey {
            workspace_id: ws.into(),
            id: id.into(),
        }
    }

    #[test]
    fn the_partition_of_a_conversation_never_changes() {
        // Pinned, from an independent FNV-1a in Python (`h ^= b; h *=
        // 0x100000001b3` over workspace id, 0xFF, id): a store created by
        // any version keeps its layout.
        assert_eq!(of(&key("", "1"), 64), 45);
        assert_eq!(of(&key("w1", "c1"), 64), 50);
        assert_eq!(of(&key("w1", "c1"), 7), 4);
        assert_eq!(of(&key("workspace", "215467889"), 64), 23);
    }

    #[test]
    fn the_separator_keeps_shifted_ids_apart_and_every_partition_is_used() {
        assert_ne!(
            fnv1a(fnv1a(fnv1a(FNV_OFFSET, b"a"), &[0xFF]), b"bc"),
            fnv1a(fnv1a(fnv1a(FNV_OFFSET, b"ab"), &[0xFF]), b"c")
        );
        let mut seen = [0u32; 64];
        for i in 0..6400 {
            seen[of(&key("w", &i.to_string()), 64) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (50..150).contains(&n)), "{seen:?}");
        assert_eq!(of(&key("w", "x"), 0), 0);
    }

    #[test]
    fn a_split_spreads_one_partitions_conversations_over_every_part() {
        // The conversations of partition 5 of 64 (a power of two, so `of`
        // reads only the low bits) still use all 8 parts of a split.
        let mut seen = [0u32; 8];
        let mut n = 0;
        for i in 0..200_000 {
            let k = key("w", &i.to_string());
            if of(&k, 64) == 5 {
                seen[split(&k, 1, 8) as usize] += 1;
                n += 1;
            }
        }
        let even = n / 8;
        assert!(seen.iter().all(|&c| c > even * 8 / 10), "{seen:?}");
        assert_ne!(
            split(&key("w", "1"), 1, 1000),
            split(&key("w", "1"), 2, 1000)
        );
        assert_eq!(split(&key("w", "1"), 1, 0), 0);
    }
}
