//! `ddflare status`: what the cache says, read without a network call. Fails when a
//! configured record is not in it. `--json`: the same for scripts.

use super::exit::Verdict;
use super::out::say;
use crate::config::Config;
use crate::state::State;

pub fn status(config: &Config, json: bool) -> Verdict {
    let (state, warning) = State::load(&config.state.dir);
    if let Some(w) = warning {
        if json {
            say!("{}", serde_json::json!({ "error": w.to_string() }));
        } else {
            say!("{w}");
        }
        return Verdict::Failed;
    }
    let now = std::time::SystemTime::now();
    if json {
        let (value, complete) = crate::status::json(config, &state, now);
        say!("{value:#}");
        return complete.into();
    }
    say!("state: {}", crate::state::path(&config.state.dir).display());
    let (text, complete) = crate::status::render(config, &state, now);
    super::out::write(format_args!("{text}"));
    complete.into()
}
