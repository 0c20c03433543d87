use super::*;

#[test]
fn public_and_private_addresses() {
    for private in [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
    ] {
        assert!(!is_public(private.parse().unwrap()), "{private}");
    }
    for public in ["8.8.8.8", "2a00:1450::1", "81.2.69.160"] {
        assert!(is_public(public.parse().unwrap()), "{public}");
    }
}

#[test]
fn same_site_rules() {
    let origin = "riverside.example";
    let url = |u: &str| Url::parse(u).unwrap();
    assert!(same_site(
        origin,
        &url("https://www.riverside.example/contact")
    ));
    assert!(same_site(origin, &url("https://walks.riverside.example/")));
    assert!(!same_site(origin, &url("https://parked-domains.example/")));
    assert!(!same_site(
        origin,
        &url("https://riverside.example.evil.example/")
    ));
}

#[test]
fn the_user_agent_says_who_asks() {
    let agent = default_user_agent();
    assert!(agent.starts_with("open-referral-uk-freshness/"));
    assert!(agent.contains("one request per host per second"));
}
