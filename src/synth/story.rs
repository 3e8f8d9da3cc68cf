//! The random model of a conversation's parts: a `Story` appends parts in
//! time order (who acts, when, with which body, assigned to whom) and keeps
//! the state they imply (open, closed, snoozed; assignees; waiting since;
//! first contact reply). Bots at the door, admin–customer exchanges, closes
//! and reopens are its steps; a step stops at the part cap or the horizon.

use super::rnd::Rnd;
use super::text::{
    ADMIN_FALLBACK, ADMIN_FOLLOWUPS, ADMIN_REPLIES, AI_ANSWERS, AI_ANSWERS_FALLBACK, BOT_ASK_EMAIL,
    BOT_AWAY, BOT_GREETING, BOT_IDLE_CLOSE, CALL_SUMMARY, CLOSE_BODIES, CLOSE_FALLBACK,
    CUSTOMER_CLOSE, CUSTOMER_FALLBACK, CUSTOMER_REOPENS, CUSTOMER_REPLIES, CUSTOMER_THANKS, NOTES,
    NOTES_FALLBACK, QUICK_CHOICES, QUICK_CHOICES_FALLBACK,
};
use super::time::{in_office, office_from};
use super::workspace::{Profile, TEAMS};
use super::{DAY, HORIZON, HOUR, MAX_PARTS, MINUTE};

/// Who writes a part.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Who {
    Customer,
    Admin(u8),
    Operator,
    Fin,
    AiAgent,
}

/// Whom an assignment part assigns to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Target {
    None,
    Admin(u8),
    Team(u8),
    Nobody,
}

/// The conversation's state after the parts so far.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum State {
    Open,
    Closed,
    Snoozed,
}

/// One conversation part.
pub(super) struct Part {
    pub(super) kind: &'static str,
    pub(super) t: i64,
    pub(super) updated: i64,
    pub(super) who: Who,
    pub(super) body: Option<&'static str>,
    pub(super) target: Target,
    pub(super) attachment: bool,
}

/// Stops the story: the part cap or the horizon was reached.
pub(super) struct Stop;

/// A conversation's parts as they are drawn, and the state they imply.
pub(super) struct Story<'a> {
    pub(super) rng: &'a mut Rnd,
    p: &'static Profile,
    pub(super) parts: Vec<Part>,
    pub(super) t: i64,
    horizon: i64,
    pub(super) state: State,
    pub(super) admin: Option<u8>,
    pub(super) team: Option<u8>,
    owner: u8,
    pub(super) waiting_since: Option<i64>,
    pub(super) snoozed_until: Option<i64>,
    pub(super) fcr: Option<i64>,
}

pub(super) type Step = Result<(), Stop>;

impl<'a> Story<'a> {
    /// A story whose first message is at `t` (open, unassigned, owned by
    /// admin `owner`); no part is later than `t + HORIZON`.
    pub(super) fn new(rng: &'a mut Rnd, p: &'static Profile, owner: u8, t: i64) -> Story<'a> {
        Story {
            rng,
            p,
            parts: Vec::with_capacity(24),
            t,
            horizon: t + HORIZON,
            state: State::Open,
            admin: None,
            team: None,
            owner,
            waiting_since: None,
            snoozed_until: None,
            fcr: None,
        }
    }
}

impl Story<'_> {
    fn add(
        &mut self,
        kind: &'static str,
        t: i64,
        who: Who,
        body: Option<&'static str>,
        target: Target,
    ) -> Step {
        let t = t.max(self.t);
        if self.parts.len() >= MAX_PARTS || t > self.horizon {
            return Err(Stop);
        }
        self.t = t;
        let attachment = body.is_some() && who != Who::Fin && self.rng.chance(0.03);
        self.parts.push(Part {
            kind,
            t,
            updated: t,
            who,
            body,
            target,
            attachment,
        });
        let customer = who == Who::Customer;
        let visible = match kind {
            "comment" | "quick_reply" => true,
            "note" | "note_and_reopen" => false,
            _ => body.is_some(),
        };
        let contact_reply = (customer && visible) || kind == "attribute_collected";
        match kind {
            "close" => {
                self.state = State::Closed;
                self.waiting_since = None;
                self.snoozed_until = None;
            }
            "snoozed" => self.state = State::Snoozed,
            "unsnoozed" => {
                self.state = State::Open;
                self.snoozed_until = None;
            }
            "open" | "assign_and_reopen" | "note_and_reopen" => self.state = State::Open,
            _ if contact_reply && self.state == State::Closed => self.state = State::Open,
            _ => {}
        }
        if matches!(
            kind,
            "assignment" | "default_assignment" | "assign_and_reopen" | "away_mode_assignment"
        ) {
            match target {
                Target::Admin(a) => {
                    self.admin = Some(a);
                    self.owner = a;
                }
                Target::Team(tm) => {
                    self.team = Some(tm);
                    self.admin = None;
                }
                Target::Nobody => self.admin = None,
                Target::None => {}
            }
        }
        if contact_reply {
            self.fcr.get_or_insert(t);
            if self.state != State::Closed {
                self.waiting_since.get_or_insert(t);
            }
        } else if visible && matches!(who, Who::Admin(_)) {
            // A human admin's visible reply ends the wait; bots' do not.
            self.waiting_since = None;
        }
        Ok(())
    }

    /// A part with a body and no assignment.
    fn say(&mut self, kind: &'static str, t: i64, who: Who, body: &'static str) -> Step {
        self.add(kind, t, who, Some(body), Target::None)
    }

    /// A part with neither body nor assignment.
    fn mark(&mut self, kind: &'static str, t: i64, who: Who) -> Step {
        self.add(kind, t, who, None, Target::None)
    }

    /// An assignment part without a body.
    fn assign(&mut self, kind: &'static str, t: i64, who: Who, target: Target) -> Step {
        self.add(kind, t, who, None, target)
    }

    /// Operator's default assignment to a random team, within two seconds.
    fn default_assignment(&mut self) -> Step {
        let team = self.rng.below(u64::from(TEAMS)) as u8;
        let at = self.t + self.rng.range(0, 2);
        self.assign("default_assignment", at, Who::Operator, Target::Team(team))
    }

    /// The owner's comment at `t`, picked from `bodies`.
    fn owner_comment(&mut self, t: i64, bodies: &[&'static str]) -> Step {
        let body = self.rng.pick(bodies, ADMIN_FALLBACK);
        self.say("comment", t, Who::Admin(self.owner), body)
    }

    /// The customer writes again, after a customer's delay.
    fn customer_reply(&mut self) -> Step {
        let at = self.customer_time(self.t);
        let body = self.rng.pick(CUSTOMER_REPLIES, CUSTOMER_FALLBACK);
        self.say("comment", at, Who::Customer, body)
    }

    /// When a bot closes an idle conversation: one to three days on.
    fn idle_time(&mut self) -> i64 {
        self.t + self.rng.range(DAY, 3 * DAY)
    }

    fn other_admin(&mut self) -> u8 {
        let n = u64::from(self.p.admins.max(2));
        let step = 1 + self.rng.below(n - 1) as u8;
        (self.owner + step) % self.p.admins.max(2)
    }

    /// Mostly the owner, sometimes another admin.
    fn usual_admin(&mut self) -> u8 {
        if self.rng.chance(0.8) {
            self.owner
        } else {
            self.other_admin()
        }
    }

    /// When a human admin acts after `after`: log-normal delay, usually moved
    /// into office hours (weekend messages get a Monday answer).
    fn admin_time(&mut self, after: i64) -> i64 {
        let mut t = after + self.rng.lognormal(18.0 * 60.0, 1.3, 15, 2 * DAY);
        if self.rng.chance(0.88) && !in_office(self.p, t) {
            t = office_from(self.p, t) + self.rng.lognormal(20.0 * 60.0, 1.0, 30, 4 * HOUR);
        }
        t
    }

    fn customer_time(&mut self, after: i64) -> i64 {
        after + self.rng.lognormal(35.0 * 60.0, 1.6, 10, 5 * DAY)
    }

    fn bot_time(&mut self, after: i64) -> i64 {
        after + self.rng.range(1, 20)
    }

    /// A customer-written conversation from its first message (at the
    /// story's start, waiting for an answer): the bots at the door, then
    /// admins answer, rarely nobody.
    pub(super) fn customer_initiated(&mut self) -> Step {
        self.fcr = Some(self.t);
        self.waiting_since = Some(self.t);
        self.reception()?;
        self.answers(0.04, Some(BOT_IDLE_CLOSE), u32::MAX)
    }

    /// The customer answers an outbound message with a `part` at `t`:
    /// Operator may route it to a team, then admins answer, or nobody does.
    pub(super) fn customer_answers(
        &mut self,
        part: &'static str,
        t: i64,
        body: &'static str,
    ) -> Step {
        self.say(part, t, Who::Customer, body)?;
        if self.rng.chance(0.4) {
            self.default_assignment()?;
        }
        self.answers(0.15, None, 4)
    }

    /// After a customer's message: with probability `unanswered` nobody
    /// answers (it stays waiting, or Operator closes it as idle with
    /// `idle_body`); else up to `max_rounds` exchanges and the resolution.
    fn answers(
        &mut self,
        unanswered: f64,
        idle_body: Option<&'static str>,
        max_rounds: u32,
    ) -> Step {
        if self.rng.chance(unanswered) {
            if self.rng.chance(0.5) {
                let at = self.idle_time();
                self.add("close", at, Who::Operator, idle_body, Target::None)?;
            }
            return Ok(());
        }
        let rounds = self.rounds().min(max_rounds);
        self.exchange(rounds)?;
        self.resolve()
    }

    /// Bots at the door of a customer-written conversation.
    fn reception(&mut self) -> Step {
        let t0 = self.t;
        if self.rng.chance(0.62) {
            self.default_assignment()?;
        }
        if self.rng.chance(0.08) {
            let at = self.bot_time(self.t);
            self.mark("language_detection_details", at, Who::Fin)?;
        }
        if self.rng.chance(0.3) {
            let body = if in_office(self.p, t0) {
                BOT_GREETING
            } else {
                BOT_AWAY
            };
            let at = self.bot_time(self.t);
            self.say("comment", at, Who::Operator, body)?;
        }
        if self.rng.chance(0.18) {
            // AI agent answers first.
            let at = self.t + self.rng.range(5, 40);
            let answer = self.rng.pick(AI_ANSWERS, AI_ANSWERS_FALLBACK);
            self.say("comment", at, Who::AiAgent, answer)?;
            if self.rng.chance(0.5) {
                let at = self.bot_time(self.t);
                self.mark("quick_reply", at, Who::AiAgent)?;
                let at = self.customer_time(self.t).min(self.t + 10 * MINUTE);
                let choice = self.rng.pick(QUICK_CHOICES, QUICK_CHOICES_FALLBACK);
                self.say("quick_reply", at, Who::Customer, choice)?;
            }
            if self.rng.chance(0.38) {
                // Resolved by the AI agent.
                if self.rng.chance(0.6) {
                    let at = self.customer_time(self.t).min(self.t + HOUR);
                    self.say("comment", at, Who::Customer, CUSTOMER_THANKS)?;
                }
                let at = self.t + self.rng.range(3 * MINUTE, 2 * HOUR);
                self.mark("close", at, Who::Fin)?;
                return Err(Stop);
            }
            let at = self.bot_time(self.t);
            let team = self.rng.below(u64::from(TEAMS)) as u8;
            self.assign("assignment", at, Who::Operator, Target::Team(team))?;
        } else if self.rng.chance(0.15) {
            // Operator collects an attribute before routing.
            let at = self.bot_time(self.t);
            self.say("comment", at, Who::Operator, BOT_ASK_EMAIL)?;
            let at = self.t + self.rng.range(10, 5 * MINUTE);
            self.mark("attribute_collected", at, Who::Customer)?;
        }
        if self.rng.chance(0.1) {
            let at = self.bot_time(self.t);
            let who = if self.rng.chance(0.5) {
                Who::Operator
            } else {
                Who::Fin
            };
            self.mark("conversation_attribute_updated_by_admin", at, who)?;
        }
        Ok(())
    }

    /// `rounds` exchanges after a customer message: an admin answers (maybe
    /// assigning, noting, snoozing), then the customer writes again except after
    /// the last round.
    fn exchange(&mut self, rounds: u32) -> Step {
        for r in 0..rounds {
            let at = self.admin_time(self.t);
            let mut replied = false;
            if (self.admin.is_none() && self.rng.chance(0.75)) || self.rng.chance(0.06) {
                let to = if self.admin.is_none() {
                    self.rng.below(u64::from(self.p.admins)) as u8
                } else {
                    self.other_admin()
                };
                let roll = self.rng.f64();
                if roll < 0.03 {
                    let who = Who::Admin(self.owner);
                    self.assign("assignment", at, who, Target::Nobody)?;
                } else if roll < 0.06 {
                    self.assign("away_mode_assignment", at, Who::Operator, Target::Admin(to))?;
                } else {
                    let with_body = self.rng.chance(0.18);
                    let body = with_body.then(|| self.rng.pick(ADMIN_REPLIES, ADMIN_FALLBACK));
                    let by = if self.rng.chance(0.7) { to } else { self.owner };
                    self.add("assignment", at, Who::Admin(by), body, Target::Admin(to))?;
                    replied = with_body;
                }
            }
            if self.rng.chance(0.16) {
                let by = self.usual_admin();
                let at = at + self.rng.range(0, 3 * MINUTE);
                let note = self.rng.pick(NOTES, NOTES_FALLBACK);
                self.say("note", at, Who::Admin(by), note)?;
            }
            if !replied {
                self.owner_comment(at.max(self.t), ADMIN_REPLIES)?;
                if self.rng.chance(0.15) {
                    let at = self.t + self.rng.range(20, 10 * MINUTE);
                    self.owner_comment(at, ADMIN_FOLLOWUPS)?;
                }
            }
            if self.rng.chance(0.01) {
                let at = self.bot_time(self.t);
                self.say("call_summary", at, Who::Fin, CALL_SUMMARY)?;
            }
            if self.rng.chance(0.07) {
                let at = self.t + self.rng.range(5, 2 * MINUTE);
                self.mark("snoozed", at, Who::Admin(self.owner))?;
                let until = office_from(self.p, self.t + self.rng.range(4 * HOUR, 3 * DAY));
                self.snoozed_until = Some(until);
                if self.rng.chance(0.15) {
                    return Err(Stop); // still snoozed
                }
                if self.rng.chance(0.8) {
                    self.mark("unsnoozed", until, Who::Operator)?;
                } else {
                    let at = self.admin_time(self.t + HOUR).min(until);
                    self.mark("unsnoozed", at, Who::Admin(self.owner))?;
                }
            }
            if r + 1 < rounds {
                self.customer_reply()?;
            }
        }
        Ok(())
    }

    fn rounds(&mut self) -> u32 {
        let mut n = 1;
        while n < 9 && self.rng.chance(0.68) {
            n += 1;
        }
        n
    }

    /// Close, then maybe reopen and close again, a few times.
    fn resolve(&mut self) -> Step {
        let mut cycles = 0u32;
        loop {
            if self.rng.chance(0.07) {
                return Ok(()); // left open
            }
            let roll = self.rng.f64();
            if roll < 0.80 {
                let at = self
                    .admin_time(self.t)
                    .min(self.t + self.rng.range(0, 3 * HOUR));
                let body = self
                    .rng
                    .chance(0.25)
                    .then(|| self.rng.pick(CLOSE_BODIES, CLOSE_FALLBACK));
                self.add("close", at, Who::Admin(self.owner), body, Target::None)?;
            } else if roll < 0.99 {
                // Idle conversation closed by a bot.
                let who = if roll < 0.90 { Who::Operator } else { Who::Fin };
                let at = self.idle_time();
                let body = (who == Who::Operator && self.rng.chance(0.4)).then_some(BOT_IDLE_CLOSE);
                self.add("close", at, who, body, Target::None)?;
            } else {
                let at = self.customer_time(self.t);
                self.say("close", at, Who::Customer, CUSTOMER_CLOSE)?;
            }
            cycles += 1;
            let again = if cycles == 1 { 0.3 } else { 0.2 };
            if cycles >= 4 || !self.rng.chance(again) {
                return Ok(());
            }
            let at = self.t
                + self
                    .rng
                    .lognormal(1.5 * DAY as f64, 1.0, 10 * MINUTE, 10 * DAY);
            let roll = self.rng.f64();
            if roll < 0.62 {
                let body = self.rng.pick(CUSTOMER_REOPENS, CUSTOMER_FALLBACK);
                self.say("open", at, Who::Customer, body)?;
                let rounds = self.rounds().min(3);
                self.exchange(rounds)?;
            } else if roll < 0.72 {
                let body = self.rng.pick(CUSTOMER_REOPENS, CUSTOMER_FALLBACK);
                self.say("comment", at, Who::Customer, body)?;
                self.exchange(1)?;
            } else {
                let at = office_from(self.p, at);
                let by = self.usual_admin();
                if roll < 0.88 {
                    self.assign("assign_and_reopen", at, Who::Admin(by), Target::Admin(by))?;
                } else {
                    let note = self.rng.pick(NOTES, NOTES_FALLBACK);
                    self.say("note_and_reopen", at, Who::Admin(by), note)?;
                }
                let at = self.t + self.rng.range(10, 10 * MINUTE);
                self.owner_comment(at, ADMIN_FOLLOWUPS)?;
                if self.rng.chance(0.6) {
                    self.customer_reply()?;
                    self.exchange(1)?;
                }
            }
        }
    }
}
