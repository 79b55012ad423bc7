//! The objects the sandbox answers with that carry an account: built in layer 230 (grammers'),
//! and re-encoded per client by `layers`. Free functions, so that the layer tests build
//! exactly what the sandbox sends.

use std::net::SocketAddr;

use grammers_tl_types::{self as tl, Serializable};

use super::rpc::Account;

pub(crate) fn user(a: &Account, is_self: bool) -> tl::enums::User {
    tl::enums::User::User(tl::types::User {
        is_self,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: a.bot,
        bot_chat_history: false,
        bot_nochats: a.bot,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: true,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: a.id,
        access_hash: Some(a.access_hash),
        first_name: Some(a.first_name.clone()),
        last_name: None,
        username: Some(a.username.clone()),
        phone: if is_self { a.phone.clone() } else { None },
        photo: None,
        status: None,
        bot_info_version: a.bot.then_some(1),
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    })
}

pub(crate) fn authorization(a: &Account) -> tl::enums::auth::Authorization {
    tl::enums::auth::Authorization::Authorization(tl::types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: None,
        user: user(a, true),
    })
}

/// Every DC the sandbox serves, at its one address. Only loopback options: grammers writes
/// every static option into the session and `expect()`s the address to parse
/// (grammers-mtsender src/sender_pool.rs `update_config`).
fn dc_options(dcs: &[i32], address: SocketAddr) -> Vec<tl::enums::DcOption> {
    let option = |id: i32| {
        tl::enums::DcOption::Option(tl::types::DcOption {
            ipv6: false,
            media_only: false,
            tcpo_only: false,
            cdn: false,
            r#static: true,
            this_port_only: false,
            id,
            ip_address: address.ip().to_string(),
            port: i32::from(address.port()),
            secret: None,
        })
    };
    dcs.iter().map(|id| option(*id)).collect()
}

pub(crate) fn config(
    dcs: &[i32],
    address: SocketAddr,
    this_dc: i32,
    now: i32,
) -> tl::enums::Config {
    tl::enums::Config::Config(tl::types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: true,
        blocked_mode: false,
        force_try_ipv6: false,
        date: now,
        expires: now + 3600,
        test_mode: true,
        this_dc,
        dc_options: dc_options(dcs, address),
        dc_txt_domain_name: "sandbox.invalid".into(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: this_dc,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    })
}

/// users.userFull with an empty userFull, in this layer's (230) constructors, written by
/// hand: grammers' `UserFull` has some sixty fields, all but four of them optional.
/// api.tl: users.userFull#3b6d152e, userFull#6cbe645 (flags and flags2 zero, then id,
/// settings, notify_settings, common_chats_count), peerSettings#f47741f7,
/// peerNotifySettings#99622c0c.
pub(crate) fn user_full(a: &Account, is_self: bool) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(0x3b6d_152eu32.to_le_bytes());
    b.extend(0x06cb_e645u32.to_le_bytes());
    b.extend(0u32.to_le_bytes()); // flags
    b.extend(0u32.to_le_bytes()); // flags2
    b.extend(a.id.to_le_bytes());
    b.extend(0xf477_41f7u32.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    b.extend(0x9962_2c0cu32.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    b.extend(0i32.to_le_bytes()); // common_chats_count
    b.extend(0x1cb5_c415u32.to_le_bytes()); // chats: empty vector
    b.extend(0u32.to_le_bytes());
    b.extend(0x1cb5_c415u32.to_le_bytes()); // users: the user
    b.extend(1u32.to_le_bytes());
    b.extend(user(a, is_self).to_bytes());
    b
}
