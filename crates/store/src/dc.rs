//! Telegram's DCs: their ids and the address tables libraries use when a session stores no
//! address.

use std::net::SocketAddr;

/// Telegram's DC ids: 1 to 5, in the production and the test network alike
/// (core.telegram.org/api/datacenter). Every id read from a file, a string, Telegram's own
/// migrate errors or tgsess's state passes here, and is never narrowed by a cast.
pub const DC_IDS: std::ops::RangeInclusive<i64> = 1..=5;

/// A DC id checked against [`DC_IDS`]; the error says what is wrong with it.
pub fn dc_id(raw: i64) -> Result<i32, String> {
    if DC_IDS.contains(&raw) {
        Ok(raw as i32)
    } else {
        Err(format!(
            "DC id {raw} is out of range (Telegram's DCs are {} to {})",
            DC_IDS.start(),
            DC_IDS.end()
        ))
    }
}

/// Telegram's production DC addresses (IPv4, port 443), as grammers-session 0.11 lists them
/// in src/dc_options.rs `KNOWN_DC_OPTIONS`.
pub(crate) const PRODUCTION_DCS: [(i32, [u8; 4]); 5] = [
    (1, [149, 154, 175, 53]),
    (2, [149, 154, 167, 41]),
    (3, [149, 154, 175, 100]),
    (4, [149, 154, 167, 92]),
    (5, [91, 108, 56, 104]),
];

/// Telegram's test DCs (core.telegram.org/api/auth, test accounts); Pyrogram connects to
/// them on port 80 (pyrogram/session/internals/data_center.py).
pub const TEST_DCS: [(i32, [u8; 4]); 3] = [
    (1, [149, 154, 175, 10]),
    (2, [149, 154, 167, 40]),
    (3, [149, 154, 175, 117]),
];

/// The port of Telegram's test DCs as Pyrogram connects to them
/// (pyrogram/session/internals/data_center.py: `TEST = {1: "149.154.175.10", …}` on 80).
pub const TEST_DC_PORT: u16 = 80;

/// Whether an address is one of Telegram's test DCs.
pub(crate) fn is_test_address(a: &SocketAddr) -> bool {
    TEST_DCS
        .iter()
        .any(|(_, ip)| a.ip() == std::net::IpAddr::from(*ip))
}

/// The well-known address of a DC, when a format stores none (Pyrogram).
pub fn known_dc_address(dc: i32, test_mode: bool) -> Option<SocketAddr> {
    let (table, port): (&[(i32, [u8; 4])], u16) = if test_mode {
        (&TEST_DCS, TEST_DC_PORT)
    } else {
        (&PRODUCTION_DCS, 443)
    };
    table
        .iter()
        .find(|(id, _)| *id == dc)
        .map(|(_, ip)| SocketAddr::from((*ip, port)))
}
