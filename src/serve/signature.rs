//! Intercom's webhook signature: `X-Hub-Signature: sha1=<hex>`, the
//! HMAC-SHA1 of the raw request body keyed with the app's client secret,
//! checked in constant time. Pure.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Whether `header` (the `X-Hub-Signature` value) signs `body` with `secret`.
pub fn valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha1=")) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::valid;

    // RFC 2202, test case 2: HMAC-SHA1 with key "Jefe".
    const BODY: &[u8] = b"what do ya want for nothing?";
    const SIG: &str = "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";

    #[test]
    fn a_signature_of_the_raw_body_with_the_secret_is_valid() {
        assert!(valid(b"Jefe", BODY, Some(SIG)));
        assert!(valid(
            b"Jefe",
            BODY,
            Some(&SIG.to_uppercase().replace("SHA1=", "sha1="))
        ));
    }

    #[test]
    fn any_other_signature_body_secret_or_shape_is_not() {
        assert!(!valid(b"Jefe", b"what do ya want for nothing!", Some(SIG)));
        assert!(!valid(b"jefe", BODY, Some(SIG)));
        assert!(!valid(b"Jefe", BODY, None));
        assert!(!valid(
            b"Jefe",
            BODY,
            Some("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        ));
        assert!(!valid(b"Jefe", BODY, Some("sha1=zz")));
        assert!(!valid(b"Jefe", BODY, Some("sha1=effcdf6a")));
    }
}
