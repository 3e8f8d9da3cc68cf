//! The people who write parts, as JSON authors: the workspace's pool of
//! customers (`user`, `lead`, `contact`: kind, name, e-mail and contact id
//! derived from a hash, not drawn), its human admins, and the bots (Operator,
//! Fin, the AI agent) with the same ids in every workspace.

use super::json::{boolean, hex, id_string, raw, string, uint};
use super::rnd::mix;
use super::story::Who;
use super::text::{FIRST, LAST};
use super::workspace::admin_number;
use super::{AI_AGENT_ADMIN_ID, FIN_BOT_ID, OPERATOR_ADMIN_ID};

/// A customer of the pool of workspace `ws`.
#[derive(Clone, Copy)]
pub(super) struct Customer {
    ws: u32,
    /// Its number in the pool (`user-{n}` is a user's `external_id`).
    pub(super) n: u64,
    h: u64,
}

/// Size of each workspace's customer pool.
pub(super) const CUSTOMERS_PER_WORKSPACE: u64 = 6000;

impl Customer {
    pub(super) fn new(seed: u64, ws: u32, n: u64) -> Customer {
        Customer {
            ws,
            n,
            h: mix(mix(seed ^ 0xC057_0000) ^ (u64::from(ws) << 40) ^ n),
        }
    }

    pub(super) fn kind(&self) -> &'static str {
        match self.h % 100 {
            0..=61 => "user",
            62..=89 => "lead",
            _ => "contact",
        }
    }

    fn names(&self) -> ((&'static str, &'static str), (&'static str, &'static str)) {
        let f = FIRST[((self.h >> 8) % FIRST.len() as u64) as usize];
        let l = LAST[((self.h >> 20) % LAST.len() as u64) as usize];
        (f, l)
    }

    pub(super) fn write_id(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        // 24 hex digits like Intercom's contact ids.
        hex(
            out,
            0x6762_0000 + u64::from(self.ws) * 0x100 + (self.h >> 56),
            8,
        );
        hex(out, mix(self.h ^ self.n), 16);
        out.push(b'"');
    }

    fn write_author(&self, out: &mut Vec<u8>) {
        raw(out, "{\"type\":");
        string(out, self.kind());
        raw(out, ",\"id\":");
        self.write_id(out);
        let ((first, fs), (last, ls)) = self.names();
        if self.kind() == "lead" && self.h & 0x300 == 0 {
            raw(out, ",\"name\":null,\"email\":\"\"}");
            return;
        }
        name_and_mailbox(out, first, last, fs);
        raw(out, ".");
        raw(out, ls);
        uint(out, self.n);
        raw(out, "@example.com\"}");
    }
}

/// `,"name":"FIRST LAST","email":"MAILBOX`: the e-mail address is left open
/// for its rest. The name tables hold no character that JSON needs escaped.
fn name_and_mailbox(out: &mut Vec<u8>, first: &str, last: &str, mailbox: &str) {
    raw(out, ",\"name\":\"");
    raw(out, first);
    raw(out, " ");
    raw(out, last);
    raw(out, "\",\"email\":\"");
    raw(out, mailbox);
}

fn write_admin_author(out: &mut Vec<u8>, ws: u32, j: u8) {
    let n = admin_number(ws, j);
    let h = mix(n);
    let (first, fs) = FIRST[(h % FIRST.len() as u64) as usize];
    let (last, _) = LAST[((h >> 16) % LAST.len() as u64) as usize];
    raw(out, "{\"type\":\"admin\",\"id\":");
    id_string(out, n);
    name_and_mailbox(out, first, last, fs);
    uint(out, u64::from(j));
    raw(out, "@ws-");
    uint(out, u64::from(ws) + 1);
    raw(out, ".example.com\"}");
}

/// A bot's author object with an `@intercom.io` address of workspace `ws`,
/// left open after the e-mail address.
fn open_bot_author(out: &mut Vec<u8>, kind: &str, id: &str, name: &str, mailbox: &str, ws: u32) {
    raw(out, "{\"type\":\"");
    raw(out, kind);
    raw(out, "\",\"id\":\"");
    raw(out, id);
    raw(out, "\",\"name\":\"");
    raw(out, name);
    raw(out, "\",\"email\":\"");
    raw(out, mailbox);
    raw(out, "+ws-");
    uint(out, u64::from(ws) + 1);
    raw(out, "@intercom.io\"");
}

/// The `author` object of a part (or of the source) written by `who`.
pub(super) fn write_author(
    out: &mut Vec<u8>,
    who: Who,
    ws: u32,
    customer: &Customer,
    ai_answer: bool,
) {
    match who {
        Who::Customer => customer.write_author(out),
        Who::Admin(j) => write_admin_author(out, ws, j),
        Who::Operator => {
            open_bot_author(out, "admin", OPERATOR_ADMIN_ID, "Operator", "operator", ws);
            raw(out, "}");
        }
        Who::Fin => {
            open_bot_author(out, "bot", FIN_BOT_ID, "Fin", "operator", ws);
            raw(out, "}");
        }
        Who::AiAgent => {
            open_bot_author(out, "admin", AI_AGENT_ADMIN_ID, "Fin AI Agent", "fin", ws);
            raw(out, ",\"from_ai_agent\":true,\"is_ai_answer\":");
            boolean(out, ai_answer);
            raw(out, "}");
        }
    }
}
