//! HMAC-SHA256 signatures, Base64-encoded: what Cashfree signs webhooks with, and what paydesk signs its own
//! notification deliveries with.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `Base64(HMAC-SHA256(secret, parts concatenated))`.
pub fn hmac_base64(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn parts_are_signed_as_one_message() {
        // RFC 4231, test case 2, with the message split where a timestamp and a body would meet.
        let sig = super::hmac_base64("Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    }
}
