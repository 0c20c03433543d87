//! An Open Referral UK 3.0 API over a file of services.
//!
//! ```sh
//! cargo run --example directory -- --port 8080 crates/open-referral-uk/examples-data/services.json
//! curl 'http://127.0.0.1:8080/services?search=walking&postcode=BS1%205TR&proximity=5000'
//! ```
//!
//! The file is a JSON array of fully nested ORUK services (`GET /services/{id}` shape) or a
//! bulk-upload CSV (see `open_referral_uk::csv_import`). It is validated on load and the
//! findings summarised; then the nine ORUK 3.0 endpoints are served with CORS `*`.
//! `--taxonomies FILE` adds a JSON array of taxonomies (default: a `taxonomies.json` beside the
//! services file, if there is one); `--gazetteer FILE` adds a postcode
//! gazetteer CSV (`postcode,latitude,longitude`, e.g. from the ONS Postcode Directory) so any
//! postcode can be searched, not only those in the data.
//!
//! Logs go to stderr through `tracing-subscriber`, filtered by `RUST_LOG` (default `info`;
//! each refused request is logged by `open_referral_uk::api` with its status and the field at
//! fault, never the value sent). Connections that do not finish their request head in 10 s,
//! or stay silent for 30 s, are closed.
//!
//! **Marketplace mode** (`--db FILE`, SQLite; or `--postgres URL` for several instances on one
//! database): listings, referrals and notifications persist; the services file seeds an empty
//! database as a bulk upload (claim links are printed); the provider/admin API of
//! `open_referral_uk::provider_api` is served beside the ORUK API, with keys from
//! `--admin-key KEY`, `--provider-key ORG=KEY` and `--professional-key ORG=KEY` (repeatable).
//! The time rules run every minute; notifications are logged, or e-mailed when the example is
//! built with the `oruk-smtp` feature and given `--smtp-host` (with `--smtp-port`,
//! `--smtp-security starttls|tls|plain`, `--smtp-user` and the password in the
//! `ORUK_SMTP_PASSWORD` environment variable, `--smtp-from`, `--smtp-admin ADDRESS` and
//! `--smtp-org ORG=ADDRESS`, both repeatable, and `--sign-in-url`). Built with the
//! `oruk-freshness` feature, `--check-websites` checks each listing's website every 7 days
//! (looking for due ones every `--check-every-minutes`, default 60) and suspends listings
//! whose contact details changed until their provider confirms or edits them.
//!
//! ```sh
//! cargo run --example directory -- --db /tmp/market.sqlite --admin-key admin-secret \
//!     --provider-key org-a=provider-secret
//! curl -H 'Authorization: Bearer admin-secret' http://127.0.0.1:8080/admin/review
//! ```
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use open_referral_uk::api::{ApiState, ServeOptions, serve, serve_router};
use open_referral_uk::csv_import::import_csv;
use open_referral_uk::live::core::Principal;
use open_referral_uk::live::{Live, LiveOptions, LogNotifier, Notifier, SystemClock};
use open_referral_uk::model::{Service, Taxonomy};
use open_referral_uk::provider_api::{AuthKeys, app};
use open_referral_uk::search::{DataGeocoder, Directory, FallbackGeocoder, PostcodeTable};
use open_referral_uk::store::{PostgresStore, SqliteStore, Store};
use open_referral_uk::validate::{Severity, ValidationContext, validate_services};

#[path = "support/logging.rs"]
mod logging;

/// Serve an Open Referral UK 3.0 API over a JSON (or CSV) file of services.
#[derive(Parser)]
struct Args {
    /// Port to listen on.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// JSON array of taxonomies to serve on /taxonomies (default: `taxonomies.json` beside the
    /// services file, when present).
    #[arg(long)]
    taxonomies: Option<PathBuf>,
    /// Postcode gazetteer CSV with postcode, latitude and longitude columns.
    #[arg(long)]
    gazetteer: Option<PathBuf>,
    /// Marketplace mode: keep listings and referrals in this SQLite file.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Marketplace mode on PostgreSQL (several instances may share it).
    #[arg(long, conflicts_with = "db")]
    postgres: Option<String>,
    /// Administrator API key (marketplace mode).
    #[arg(long)]
    admin_key: Vec<String>,
    /// Provider organisation key as ORG=KEY (marketplace mode).
    #[arg(long)]
    provider_key: Vec<String>,
    /// Professional referrer key as ORG=KEY (marketplace mode).
    #[arg(long)]
    professional_key: Vec<String>,
    /// JSON array of fully nested ORUK services, or a bulk-upload CSV.
    #[arg(default_value = "crates/open-referral-uk/examples-data/services.json")]
    services: PathBuf,
    #[cfg(feature = "oruk-smtp")]
    #[command(flatten)]
    smtp: SmtpArgs,
    /// Check listings' websites for changes (marketplace mode, feature `oruk-freshness`).
    #[cfg(feature = "oruk-freshness")]
    #[arg(long)]
    check_websites: bool,
    /// How often to look for websites due a check (each is checked every 7 days).
    #[cfg(feature = "oruk-freshness")]
    #[arg(long, default_value_t = 60)]
    check_every_minutes: u64,
}

/// E-mailing notifications (marketplace mode, feature `oruk-smtp`).
#[cfg(feature = "oruk-smtp")]
#[derive(clap::Args)]
struct SmtpArgs {
    /// SMTP relay host: notifications are e-mailed through it (otherwise logged).
    #[arg(long)]
    smtp_host: Option<String>,
    /// SMTP relay port.
    #[arg(long, default_value_t = 587)]
    smtp_port: u16,
    /// `starttls`, `tls` (implicit, usually port 465) or `plain` (localhost only).
    #[arg(long, default_value = "starttls")]
    smtp_security: String,
    /// SMTP user name (the password is read from ORUK_SMTP_PASSWORD).
    #[arg(long)]
    smtp_user: Option<String>,
    /// The From address.
    #[arg(long, default_value = "Directory <noreply@localhost>")]
    smtp_from: String,
    /// An administrators' address (repeatable).
    #[arg(long)]
    smtp_admin: Vec<String>,
    /// A provider or referrer organisation's address as ORG=ADDRESS (repeatable).
    #[arg(long)]
    smtp_org: Vec<String>,
    /// The marketplace sign-in page linked from each e-mail.
    #[arg(long)]
    sign_in_url: Option<String>,
}

/// The notifier: SMTP when `--smtp-host` is given, else the log.
#[cfg(feature = "oruk-smtp")]
fn notifier(args: &Args, live: &Live) -> Result<Arc<dyn Notifier>, String> {
    use open_referral_uk::live::smtp::{
        SmtpConfig, SmtpCredentials, SmtpNotifier, SmtpSecurity, StaticAddressBook,
    };
    let smtp = &args.smtp;
    let Some(host) = &smtp.smtp_host else {
        return Ok(Arc::new(LogNotifier));
    };
    let security = match smtp.smtp_security.as_str() {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::ImplicitTls,
        "plain" => SmtpSecurity::Plain,
        _ => return Err("--smtp-security is starttls, tls or plain".into()),
    };
    let mut config = SmtpConfig::new(host, &smtp.smtp_from)
        .port(smtp.smtp_port)
        .security(security);
    if let Some(user) = &smtp.smtp_user {
        let password = std::env::var("ORUK_SMTP_PASSWORD")
            .map_err(|_| "--smtp-user needs the password in ORUK_SMTP_PASSWORD")?;
        config = config.credentials(SmtpCredentials::new(user, password));
    }
    if let Some(url) = &smtp.sign_in_url {
        config = config.sign_in_url(url);
    }
    let mut book = StaticAddressBook::new().service_contacts_from(live.directory());
    for admin in &smtp.smtp_admin {
        book = book.admin(admin);
    }
    for pair in &smtp.smtp_org {
        let (org, address) = pair.split_once('=').ok_or("--smtp-org takes ORG=ADDRESS")?;
        book = book.organisation(org, address);
    }
    let notifier = SmtpNotifier::new(config, Arc::new(book)).map_err(|e| e.to_string())?;
    Ok(Arc::new(notifier))
}

/// The notifier: the log (build with the `oruk-smtp` feature to e-mail).
#[cfg(not(feature = "oruk-smtp"))]
fn notifier(_: &Args, _: &Live) -> Result<Arc<dyn Notifier>, String> {
    Ok(Arc::new(LogNotifier))
}

fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn load(args: &Args) -> Result<Directory, String> {
    let (builder, services) = load_parts(args)?;
    Ok(builder.build(services))
}

fn load_parts(
    args: &Args,
) -> Result<(open_referral_uk::search::DirectoryBuilder, Vec<Service>), String> {
    let bytes = read(&args.services)?;
    let services: Vec<Service> = if args
        .services
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        let import = import_csv(&bytes).map_err(|e| e.to_string())?;
        for error in &import.errors {
            eprintln!("skipped row: {error}");
        }
        import.services
    } else {
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: {e}", args.services.display()))?;
        // The example is the IO edge, so it may read the clock for the freshness check.
        let report = validate_services(
            &value,
            &ValidationContext::on(chrono::Utc::now().date_naive()),
        );
        println!(
            "validation: {} errors, {} warnings, {} notes",
            report.count(Severity::Error),
            report.count(Severity::Warning),
            report.count(Severity::Info)
        );
        for finding in report
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .take(10)
        {
            println!("  {finding}");
        }
        serde_json::from_value(value).map_err(|e| format!("{}: {e}", args.services.display()))?
    };
    let mut builder = Directory::builder();
    // Without --taxonomies, a `taxonomies.json` beside the services file is served (the sample
    // data ships one), so /taxonomies is not empty.
    let beside = args
        .services
        .parent()
        .map(|dir| dir.join("taxonomies.json"))
        .filter(|path| path.is_file());
    if let Some(path) = args.taxonomies.as_ref().or(beside.as_ref()) {
        let taxonomies: Vec<Taxonomy> =
            serde_json::from_slice(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("taxonomies: {} from {}", taxonomies.len(), path.display());
        builder = builder.taxonomies(taxonomies);
    }
    if let Some(path) = &args.gazetteer {
        let (table, skipped) =
            PostcodeTable::from_csv_reader(read(path)?.as_slice()).map_err(|e| e.to_string())?;
        println!(
            "gazetteer: {} postcodes ({skipped} rows skipped)",
            table.len()
        );
        builder = builder.geocoder(Arc::new(FallbackGeocoder::new(
            table,
            DataGeocoder::from_services(&services),
        )));
    }
    Ok((builder, services))
}

fn keys(args: &Args) -> Result<AuthKeys, String> {
    let mut keys = AuthKeys::new();
    for key in &args.admin_key {
        keys = keys.with(key, Principal::Admin);
    }
    for (pairs, professional) in [(&args.provider_key, false), (&args.professional_key, true)] {
        for pair in pairs {
            let (org, key) = pair
                .split_once('=')
                .ok_or("a provider or professional key is ORG=KEY")?;
            let principal = if professional {
                Principal::Professional(org.to_owned())
            } else {
                Principal::Provider(org.to_owned())
            };
            keys = keys.with(key, principal);
        }
    }
    Ok(keys)
}

/// Marketplace mode: open the store, seed it, serve the ORUK API and the marketplace.
async fn marketplace(args: &Args) -> Result<(), String> {
    let store: Arc<dyn Store> = match (&args.db, &args.postgres) {
        (Some(path), _) => Arc::new(SqliteStore::open(path).map_err(|e| e.to_string())?),
        (None, Some(url)) => Arc::new(
            PostgresStore::connect(url)
                .await
                .map_err(|e| e.to_string())?,
        ),
        (None, None) => return Err("marketplace mode needs --db or --postgres".into()),
    };
    let (builder, services) = load_parts(args)?;
    let live = Arc::new(
        Live::open(
            store,
            Arc::new(SystemClock::new()),
            builder,
            LiveOptions::default(),
        )
        .await
        .map_err(|e| e.to_string())?,
    );
    // The notifier's configuration is checked before anything is written.
    let notifier = notifier(args, &live)?;
    if live.read(|core| core.listings().count()).await == 0 && !services.is_empty() {
        let values = services
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let claims = live
            .bulk_upload(&Principal::Admin, values)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "seeded {} listings from the services file; claim links:",
            claims.len()
        );
        for (id, token) in claims.iter().take(10) {
            println!("  {id}: /provider/claim/{token}");
        }
    }
    live.spawn_background(notifier);
    #[cfg(feature = "oruk-freshness")]
    if args.check_websites {
        use open_referral_uk::freshness::fetch::{Checker, CheckerOptions};
        let checker = Checker::new(CheckerOptions::default()).map_err(|e| e.to_string())?;
        let every = std::time::Duration::from_secs(args.check_every_minutes.max(1) * 60);
        live.spawn_website_checks(Arc::new(checker), every);
    }
    let router = app(live, keys(args)?);
    let address = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    println!("ORUK 3.0 API and marketplace on http://{address}/");
    serve_router(listener, router, ServeOptions::default())
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() {
    // RUST_LOG selects what is logged, on stderr (default: info).
    logging::init("info");
    let args = Args::parse();
    if args.db.is_some() || args.postgres.is_some() {
        if let Err(message) = marketplace(&args).await {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
        return;
    }
    let directory = match load(&args) {
        Ok(directory) => directory,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    println!(
        "loaded {} services ({} duplicate ids dropped)",
        directory.len(),
        directory.dropped_duplicates()
    );
    let address = SocketAddr::new(args.host, args.port);
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {address}: {error}");
            std::process::exit(2);
        }
    };
    println!("ORUK 3.0 API on http://{address}/ (try /services?search=walking)");
    if let Err(error) = serve(listener, ApiState::new(directory)).await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
