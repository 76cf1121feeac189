//! `ddflare status`: what the cache says, read without a network call. Fails when a
//! configured record is not in it.

use super::exit::Verdict;
use super::out::say;
use crate::config::Config;
use crate::state::State;

pub fn status(config: &Config) -> Verdict {
    let (state, warning) = State::load(&config.state.dir);
    if let Some(w) = warning {
        say!("{w}");
        return Verdict::Failed;
    }
    say!("state: {}", crate::state::path(&config.state.dir).display());
    let (text, complete) = crate::status::render(config, &state, std::time::SystemTime::now());
    super::out::write(format_args!("{text}"));
    complete.into()
}
