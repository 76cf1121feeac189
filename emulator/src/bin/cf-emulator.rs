//! `cf-emulator`: the Cloudflare API v4 emulator as a standalone process.
//!
//! Prints `listening on http://ADDR/client/v4` (`https://` with `--tls-cert`) first, then one line per record change.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use ddflare_emulator::{Emulator, Plan, TokenScope, ZoneOptions};

const USAGE: &str = "\
usage: cf-emulator [options]

  --listen ADDR               address to bind (default 127.0.0.1:8787; port 0 = any free port)
  --tls-cert FILE             serve HTTPS with this certificate chain (PEM, leaf first)
  --tls-key FILE              ... and this private key (PEM); both or neither
  --zone NAME                 add an active zone (repeatable)
  --zone-plan NAME:PLAN       add a zone on a plan: free, pro, business, enterprise
  --token TOKEN               API token with DNS Edit on all zones (repeatable)
  --read-only-token TOKEN     API token with DNS Read on all zones (repeatable)
  --lists-token TOKEN         API token with DNS Edit on all zones and Account Filter Lists
                              Edit on the account (IP lists; repeatable)
  --zone-token TOKEN:Z1,Z2    API token with DNS Edit on the listed zones (repeatable)
  --token-expires TOKEN:TIME  the token's expires_on (RFC 3339), shown by verify
  --token-client-ips TOKEN:CIDR1,CIDR2
                              the token works only from these addresses (else 403 9109)
  --global-key EMAIL:KEY      accept a legacy X-Auth-Email/X-Auth-Key pair
  --rate-limit N/SECS         per-token budget (default 1200/300)
  --batch-limit N             records per batch call (default: by plan, 200 on Free)
  --legacy-errors             wrap validation errors in 1004 (pre-2024-10 style)
  --strict-token-format       unknown tokens must look like real ones
  --trace-ip IP               fixed ip= in /cdn-cgi/trace
  --warp VALUE                warp= in /cdn-cgi/trace (default off)
  --state-file PATH           keep zones and records in PATH: loaded at start when it exists,
                              saved after every change (survives kill -9 and a restart)
  -h, --help                  this text

Admin API: GET /__emulator/records?zone=NAME, GET|DELETE /__emulator/requests,
POST|DELETE /__emulator/faults, POST /__emulator/records, PUT /__emulator/records/{id},
GET /__emulator/zones.";

struct Args {
    listen: SocketAddr,
    emulator: Emulator,
}

fn parse_plan(s: &str) -> Result<Plan, String> {
    match s.to_ascii_lowercase().as_str() {
        "free" => Ok(Plan::Free),
        "pro" => Ok(Plan::Pro),
        "business" => Ok(Plan::Business),
        "enterprise" => Ok(Plan::Enterprise),
        other => Err(format!("unknown plan {other:?}")),
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8787));
    let mut emu = Emulator::new();
    let (mut tls_cert, mut tls_key) = (None, None);
    while let Some(flag) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (flag, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => {
                let v = value("--listen")?;
                listen = v.parse().map_err(|e| format!("--listen {v}: {e}"))?;
            }
            "--tls-cert" => tls_cert = Some(value("--tls-cert")?),
            "--tls-key" => tls_key = Some(value("--tls-key")?),
            "--zone" => {
                emu.zone(&value("--zone")?);
            }
            "--zone-plan" => {
                let v = value("--zone-plan")?;
                let (zone, plan) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--zone-plan {v}: expected NAME:PLAN"))?;
                let plan = parse_plan(plan)?;
                emu.zone_with(
                    zone,
                    ZoneOptions {
                        plan,
                        ..ZoneOptions::default()
                    },
                );
            }
            "--token" => emu.token(&value("--token")?, TokenScope::edit_all()),
            "--read-only-token" => emu.token(&value("--read-only-token")?, TokenScope::read_only()),
            "--lists-token" => emu.token(
                &value("--lists-token")?,
                TokenScope::edit_all().with_lists(),
            ),
            "--zone-token" => {
                let v = value("--zone-token")?;
                let (token, zones) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--zone-token {v}: expected TOKEN:ZONE1,ZONE2"))?;
                let zones: Vec<&str> = zones.split(',').filter(|z| !z.is_empty()).collect();
                for zone in &zones {
                    emu.zone(zone);
                }
                emu.token(token, TokenScope::zones_edit(&zones));
            }
            "--token-expires" => {
                let v = value("--token-expires")?;
                let (token, time) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--token-expires {v}: expected TOKEN:RFC3339"))?;
                emu.token_expires(token, time);
            }
            "--token-client-ips" => {
                let v = value("--token-client-ips")?;
                let (token, cidrs) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--token-client-ips {v}: expected TOKEN:CIDR,CIDR"))?;
                let cidrs: Vec<&str> = cidrs.split(',').filter(|c| !c.is_empty()).collect();
                emu.token_client_ips(token, &cidrs);
            }
            "--global-key" => {
                let v = value("--global-key")?;
                let (email, key) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--global-key {v}: expected EMAIL:KEY"))?;
                emu.global_key(email, key);
            }
            "--rate-limit" => {
                let v = value("--rate-limit")?;
                let (n, secs) = v
                    .split_once('/')
                    .ok_or_else(|| format!("--rate-limit {v}: expected N/SECS"))?;
                let n: u32 = n.parse().map_err(|e| format!("--rate-limit {v}: {e}"))?;
                let secs: u64 = secs.parse().map_err(|e| format!("--rate-limit {v}: {e}"))?;
                emu.rate_limit(n, Duration::from_secs(secs));
            }
            "--batch-limit" => {
                let v = value("--batch-limit")?;
                emu.batch_limit(v.parse().map_err(|e| format!("--batch-limit {v}: {e}"))?);
            }
            "--legacy-errors" => {
                emu.wrapped_validation_errors(true);
            }
            "--strict-token-format" => {
                emu.strict_token_format(true);
            }
            "--trace-ip" => {
                let v = value("--trace-ip")?;
                let ip: IpAddr = v.parse().map_err(|e| format!("--trace-ip {v}: {e}"))?;
                emu.trace_ip(ip);
            }
            "--warp" => {
                emu.trace_warp(&value("--warp")?);
            }
            "--state-file" => {
                let v = value("--state-file")?;
                emu.state_file(std::path::Path::new(&v))
                    .map_err(|e| format!("--state-file {v}: {e}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    match (tls_cert, tls_key) {
        (None, None) => {}
        (Some(cert), Some(key)) => {
            let read =
                |path: &str| std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"));
            emu.tls_pem(&read(&cert)?, &read(&key)?)
                .map_err(|e| format!("--tls-cert {cert} --tls-key {key}: {e}"))?;
        }
        _ => return Err("--tls-cert and --tls-key go together".to_owned()),
    }
    Ok(Some(Args {
        listen,
        emulator: emu,
    }))
}

/// Signal streams, set up before the "listening" line so that a SIGTERM sent right
/// after it is handled (exit 0) rather than killing the process.
#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cf-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cf-emulator: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut emu = args.emulator;
    emu.on_mutation(|m| println!("{m}"));
    let running = match emu.start(args.listen).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cf-emulator: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", running.base_url());
    signals.wait().await;
    running.shutdown().await;
    ExitCode::SUCCESS
}
