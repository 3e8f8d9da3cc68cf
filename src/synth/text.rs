//! The text of generated conversations: customers' and admins' first and
//! last names (with their ASCII e-mail forms), message bodies by role and
//! moment, outbound subjects and bodies, e-mail subjects and tag names. Each
//! list picked from has a fallback for the (impossible) empty pick.

pub(super) const FIRST: [(&str, &str); 32] = [
    ("Aoife", "aoife"),
    ("Liam", "liam"),
    ("Siobhán", "siobhan"),
    ("Noah", "noah"),
    ("Olivia", "olivia"),
    ("Mateo", "mateo"),
    ("Zoë", "zoe"),
    ("Ethan", "ethan"),
    ("Priya", "priya"),
    ("Kenji", "kenji"),
    ("Amara", "amara"),
    ("Lucas", "lucas"),
    ("Chloé", "chloe"),
    ("Jonas", "jonas"),
    ("Mei", "mei"),
    ("Oisín", "oisin"),
    ("Sofia", "sofia"),
    ("Ravi", "ravi"),
    ("Hannah", "hannah"),
    ("Diego", "diego"),
    ("Grace", "grace"),
    ("Tomás", "tomas"),
    ("Ingrid", "ingrid"),
    ("Samir", "samir"),
    ("Charlotte", "charlotte"),
    ("Yusuf", "yusuf"),
    ("Emily", "emily"),
    ("Felix", "felix"),
    ("Nia", "nia"),
    ("Hiro", "hiro"),
    ("Ada", "ada"),
    ("Ben", "ben"),
];

pub(super) const LAST: [(&str, &str); 24] = [
    ("Byrne", "byrne"),
    ("O'Brien", "obrien"),
    ("Smith", "smith"),
    ("Nuñez", "nunez"),
    ("Kowalski", "kowalski"),
    ("Tanaka", "tanaka"),
    ("Murphy", "murphy"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Okafor", "okafor"),
    ("Chen", "chen"),
    ("Patel", "patel"),
    ("Johnson", "johnson"),
    ("Kelly", "kelly"),
    ("Rossi", "rossi"),
    ("Nguyen", "nguyen"),
    ("Walsh", "walsh"),
    ("Larsen", "larsen"),
    ("Dubois", "dubois"),
    ("Silva", "silva"),
    ("Brown", "brown"),
    ("Ivanova", "ivanova"),
    ("Lee", "lee"),
    ("Doyle", "doyle"),
];

pub(super) const CUSTOMER_OPENERS: &[&str] = &[
    "<p>I was charged twice this month, can you refund one?</p>",
    "<p>The CSV export button does nothing (Chrome).</p>",
    "<p>Where is the \"Invite\" option for teammates?</p>",
    "<p>Our webhook stopped firing yesterday at 3pm.</p>",
    "<p>Is there a way to change the billing email on our account?</p>",
    "<p>I can't log in and the reset email never arrives.</p>",
    "<p>Do you support Okta SSO on Growth?</p>",
    "<p>The app crashes when I open an image.</p>",
    "<p>Can you quote 25 seats on the annual plan?</p>",
    "<p>Bonjour, l'application est très lente ce matin.</p>",
    "<p>The API returns 429 under the limit.</p>",
    "<p>Can I get an invoice with our VAT number on it?</p>",
];
pub(super) const CUSTOMER_FALLBACK: &str = "<p>Any update on this?</p>";
pub(super) const CUSTOMER_REPLIES: &[&str] = &[
    "<p>Thanks, that worked!</p>",
    "<p>Still failing with the same error.</p>",
    "<p>Here's a screenshot of what I see.</p>",
    "<p>Any update on this?</p>",
    "<p>Account #48213, this email.</p>",
    "<p>OK, I'll retry tomorrow.</p>",
    "<p>Yes please go ahead.</p>",
    "<p>Not quite – it's still there.</p>",
];
pub(super) const CUSTOMER_REOPENS: &[&str] = &[
    "<p>Sorry, the problem is back again 😕</p>",
    "<p>Hi again, one more question about this.</p>",
    "<p>Thanks again :)</p>",
    "<p>This happened again today, can you reopen?</p>",
];
pub(super) const CUSTOMER_THANKS: &str = "<p>Perfect, thank you!</p>";
pub(super) const CUSTOMER_CLOSE: &str = "<p>All sorted on my side, closing this.</p>";
pub(super) const QUICK_CHOICES: &[&str] = &[
    "<p>That helped 👍</p>",
    "<p>Talk to a person</p>",
    "<p>Something else</p>",
];
pub(super) const QUICK_CHOICES_FALLBACK: &str = "<p>Talk to a person</p>";
pub(super) const ADMIN_REPLIES: &[&str] = &[
    "<p>I've refunded the duplicate charge; allow 5–10 days.</p>",
    "<p>Could you clear your cache and reload?</p>",
    "<p>Settings → Teammates → Invite.</p>",
    "<p>I see the failures in our logs; engineering is on it.</p>",
    "<p>Sure, I've updated the billing email for you.</p>",
    "<p>Could you send me the request id from the response headers?</p>",
    "<p>Yes: <a href=\"https://example.com/sso\">SSO guide</a></p>",
    "<p>I've attached the invoice with your VAT number.</p>",
];
pub(super) const ADMIN_FALLBACK: &str = "<p>Thanks, looking into it now.</p>";
pub(super) const ADMIN_FOLLOWUPS: &[&str] = &[
    "<p>Did that solve it?</p>",
    "<p>Also fixed in the latest release.</p>",
    "<p>We shipped a fix, could you check?</p>",
];
pub(super) const CLOSE_BODIES: &[&str] = &[
    "<p>Goodbye :)</p>",
    "<p>Closing for now – reply to reopen.</p>",
];
pub(super) const CLOSE_FALLBACK: &str = "<p>Closing this out, thanks!</p>";
pub(super) const NOTES: &[&str] = &[
    "<p>Same as the billing bug, see Jira.</p>",
    "<p>@billing did the refund go through?</p>",
    "<p>VIP customer, please prioritise.</p>",
    "<h2>Checklist</h2>\n<ul>\n<li>Logs checked</li>\n<li>Repro on staging</li>\n</ul>",
];
pub(super) const NOTES_FALLBACK: &str = "<p>Escalated.</p>";
pub(super) const AI_ANSWERS: &[&str] = &[
    "<p>Invoices are under Billing → History.</p>",
    "<p>This article explains password resets.</p>",
    "<p>Growth includes SSO and 10 seats.</p>",
];
pub(super) const AI_ANSWERS_FALLBACK: &str = "<p>Let me find that for you.</p>";
pub(super) const BOT_GREETING: &str = "<p>The team typically replies in under an hour.</p>";
pub(super) const BOT_AWAY: &str = "<p>We're away; we'll reply in office hours.</p>";
pub(super) const BOT_ASK_EMAIL: &str = "<p>What's your email?</p>";
pub(super) const BOT_IDLE_CLOSE: &str = "<p>Closed after no reply.</p>";
pub(super) const CALL_SUMMARY: &str =
    "<p>The customer asked about a failed payment and was advised to retry.</p>";
pub(super) const OUTBOUND: &[(&str, &str)] = &[
    (
        "Your trial ends in 3 days",
        "<p>Hi! Your trial ends soon. Reply to this message if you have questions about plans.</p>",
    ),
    (
        "How is it going?",
        "<p>Hey, just checking in – how are you finding the product so far?</p>",
    ),
    (
        "New: scheduled exports",
        "<p>You can now schedule exports to run every week. Want a quick demo?</p>",
    ),
    (
        "About your renewal",
        "<p>Your renewal is coming up next month. Shall we review your seats together?</p>",
    ),
];
pub(super) const OUTBOUND_FALLBACK: (&str, &str) = ("Hello", "<p>Hello!</p>");
pub(super) const OUTBOUND_REPLIES: &[&str] = &[
    "<p>Yes, I'd love a demo. Does Thursday work?</p>",
    "<p>Can you tell me more about the pricing?</p>",
    "<p>Please unsubscribe me from these emails.</p>",
    "<p>All good so far, thanks!</p>",
];
pub(super) const BOT_MESSAGE: &str =
    "<p>👋 Need help getting started? I can answer most questions right away.</p>";
pub(super) const EMAIL_SUBJECTS: &[&str] = &[
    "Refund request",
    "Problem with export",
    "Question about \"Growth\" plan",
    "Login issue",
];
pub(super) const TAGS: &[&str] = &[
    "billing",
    "bug",
    "feature-request",
    "vip",
    "onboarding",
    "api",
];
