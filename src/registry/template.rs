//! Templates for virtual TFTP files (minijinja): the set of compiled
//! templates of one registry, the variables a template sees, and rendering.
//!
//! Rendering is strict: an undefined variable is an error, never an empty
//! string, and templates are rendered verbatim (no HTML escaping, trailing
//! newline kept), since devices read these files byte for byte.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::mac::MacAddr;

/// What the TFTP side knows about the client asking for a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFacts {
    /// The client's MAC (from the DHCP lease of its IP).
    pub mac: MacAddr,
    /// The client's IP (the TFTP peer).
    pub ip: Ipv4Addr,
    /// Its host name, when known (lease or profile).
    pub hostname: Option<String>,
    /// Our address as the client sees it.
    pub server_ip: Ipv4Addr,
    /// Option 93 from its lease, when known; profiles that match by
    /// architecture are then only used for clients of that architecture.
    pub arch: Option<u16>,
    /// Option 60 from its lease, when known (same use as `arch`).
    pub vendor_class: Option<String>,
    /// Our HTTP server's base URL as the client reaches it
    /// (`http://10.0.0.1:8080`), when it runs: `{{ http_url }}`.
    pub http_url: Option<String>,
}

impl ClientFacts {
    /// Facts with only the addresses known.
    pub fn new(mac: MacAddr, ip: Ipv4Addr, server_ip: Ipv4Addr) -> Self {
        Self {
            mac,
            ip,
            hostname: None,
            server_ip,
            arch: None,
            vendor_class: None,
            http_url: None,
        }
    }
}

/// Why a virtual file could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rendering {file} for profile `{profile}`: {detail}")]
pub struct RenderError {
    /// Profile whose template failed.
    pub profile: String,
    /// The file pattern.
    pub file: String,
    /// minijinja's explanation.
    pub detail: String,
}

/// The compiled templates of one registry.
pub struct Templates {
    env: Environment<'static>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Default for Templates {
    fn default() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build();
        if let Ok(syntax) = syntax {
            env.set_syntax(syntax);
        }
        Self { env }
    }
}

impl Templates {
    /// Compiles and adds a template; on a syntax error returns the 1-based line
    /// inside the template (when minijinja knows it) and the message.
    pub fn add(&mut self, name: &str, source: &str) -> Result<(), (Option<usize>, String)> {
        if self.env.get_template(name).is_ok() {
            return Ok(());
        }
        self.env
            .add_template_owned(name.to_string(), source.to_string())
            .map_err(|e| (e.line(), describe(&e)))
    }

    /// Renders template `name` with `ctx`; errors carry the line and message.
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, (Option<usize>, String)> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| (None, describe(&e)))?;
        tmpl.render(ctx).map_err(|e| (e.line(), describe(&e)))
    }
}

fn describe(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

/// The variables a template sees.
pub struct Context<'a> {
    /// Client facts.
    pub facts: &'a ClientFacts,
    /// Profile name.
    pub profile: &'a str,
    /// Host name from the profile, used when the facts have none.
    pub hostname: Option<&'a str>,
    /// Fixed address from the profile, used for `address`.
    pub address: Option<Ipv4Addr>,
    /// Profile variables, then host variables (later wins).
    pub vars: [&'a BTreeMap<String, Value>; 2],
}

/// Names a profile's `vars` may not use, because they are built in.
pub const BUILTIN_VARS: &[&str] = &[
    "mac",
    "ip",
    "hostname",
    "profile",
    "server_ip",
    "address",
    "http_url",
];

impl Context<'_> {
    /// The minijinja value: built-ins plus the variables at the top level.
    pub fn to_value(&self) -> Value {
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        for vars in self.vars {
            for (k, v) in vars {
                map.insert(k.clone(), v.clone());
            }
        }
        let hostname = self.facts.hostname.as_deref().or(self.hostname);
        map.insert("mac".into(), Value::from_object(MacValue(self.facts.mac)));
        map.insert("ip".into(), Value::from(self.facts.ip.to_string()));
        map.insert("hostname".into(), Value::from(hostname.unwrap_or("")));
        map.insert("profile".into(), Value::from(self.profile));
        map.insert(
            "server_ip".into(),
            Value::from(self.facts.server_ip.to_string()),
        );
        if let Some(url) = &self.facts.http_url {
            map.insert("http_url".into(), Value::from(url.as_str()));
        }
        let address = self.address.map(|a| a.to_string()).unwrap_or_default();
        map.insert("address".into(), Value::from(address));
        Value::from(map)
    }
}

/// `mac` in templates: `{{ mac }}` is the colon form; `.colon`, `.dash`,
/// `.upper`, `.lower`, `.pxelinux` give the other forms.
#[derive(Debug)]
struct MacValue(MacAddr);

const MAC_FORMS: &[&str] = &["colon", "dash", "upper", "lower", "pxelinux"];

impl Object for MacValue {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let form = match key.as_str()? {
            "colon" => self.0.colon(),
            "dash" => self.0.dash(),
            "upper" => self.0.upper_plain(),
            "lower" => self.0.lower_plain(),
            "pxelinux" => self.0.pxelinux(),
            _ => return None,
        };
        Some(Value::from(form))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(MAC_FORMS)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.colon())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> ClientFacts {
        ClientFacts::new(
            "00:1b:54:aa:0f:e1".parse().unwrap(),
            Ipv4Addr::new(10, 0, 0, 7),
            Ipv4Addr::new(10, 0, 0, 1),
        )
    }

    fn render(source: &str, vars: &BTreeMap<String, Value>) -> Result<String, String> {
        let mut t = Templates::default();
        t.add("t", source).map_err(|e| e.1)?;
        let f = facts();
        let empty = BTreeMap::new();
        let ctx = Context {
            facts: &f,
            profile: "lab",
            hostname: Some("pc7"),
            address: None,
            vars: [vars, &empty],
        };
        t.render("t", &ctx.to_value()).map_err(|e| e.1)
    }

    #[test]
    fn renders_every_mac_form() {
        let out = render(
            "{{ mac }} {{ mac.colon }} {{ mac.dash }} {{ mac.upper }} {{ mac.lower }} {{ mac.pxelinux }}",
            &BTreeMap::new(),
        );
        assert_eq!(
            out.unwrap(),
            "00:1b:54:aa:0f:e1 00:1b:54:aa:0f:e1 00-1b-54-aa-0f-e1 001B54AA0FE1 001b54aa0fe1 01-00-1b-54-aa-0f-e1"
        );
    }

    #[test]
    fn renders_builtins_and_vars_verbatim() {
        let mut vars = BTreeMap::new();
        vars.insert("site".to_string(), Value::from("<lab>"));
        let out = render(
            "{{ ip }} {{ server_ip }} {{ hostname }} {{ profile }} {{ site }}\n",
            &vars,
        );
        assert_eq!(out.unwrap(), "10.0.0.7 10.0.0.1 pc7 lab <lab>\n");
    }

    #[test]
    fn undefined_is_an_error() {
        let err = render("{{ nope }}", &BTreeMap::new()).unwrap_err();
        assert!(err.contains("undefined"), "{err}");
        let err = render("{{ mac.uper }}", &BTreeMap::new()).unwrap_err();
        assert!(err.contains("undefined"), "{err}");
    }

    #[test]
    fn syntax_errors_have_lines() {
        let mut t = Templates::default();
        let err = t.add("t", "line one\n{{ oops \n").unwrap_err();
        assert_eq!(err.0, Some(2));
    }
}
