//! The process environment as tgsess sees it: read through [`Env`], so tests and the
//! rehearsal pass their own.

/// Where `TGSESS_*`, `HOME` and the XDG variables come from.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;

    /// The variable, an empty value counting as unset (README, "Configuration").
    fn set(&self, name: &str) -> Option<String> {
        self.var(name).filter(|v| !v.is_empty())
    }
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}
