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

/// The partition of `key` among `partitions` (at least 1).
pub fn of(key: &ConversationKey, partitions: u32) -> u32 {
    // 0xFF never occurs in UTF-8, so ("a", "bc") and ("ab", "c") differ.
    let h = fnv1a(FNV_OFFSET, key.workspace_id.as_bytes());
    let h = fnv1a(h, &[0xFF]);
    let h = fnv1a(h, key.id.as_bytes());
    (h % u64::from(partitions.max(1))) as u32
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
}
