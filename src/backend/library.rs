//! What the MPI library says of itself: its version and the eager limit of each transport,
//! from `ompi_info` (Open MPI). A run about messages keeps this in its environment, so that
//! the limit the eager-limit sweep measures can be shown next to the one the library is
//! configured with.

use std::collections::BTreeMap;

/// An MPI library's configuration, as far as a run about messages needs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MpiLibrary {
    /// `Open MPI 4.1.4`.
    pub name: String,
    /// Each transport's configured eager limit in bytes, by the name of its Open MPI
    /// component (`vader` or `sm`: shared memory; `tcp`; `self`: a rank to itself). Open MPI
    /// counts its own header in these limits.
    pub eager_limits: BTreeMap<String, u64>,
}

impl MpiLibrary {
    /// Asks `ompi_info` (about 0.3 s). `None` where it is not installed (MPICH, no MPI) or
    /// says nothing usable.
    pub fn query() -> Option<Self> {
        let out = std::process::Command::new("ompi_info")
            .args(["--parsable", "--param", "btl", "all", "--level", "4"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        Self::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// Reads `ompi_info --parsable` lines: `mca:btl:vader:param:btl_vader_eager_limit:value:4096`
    /// for the limits, `mca:btl:vader:version:"component:4.1.4"` for the version.
    pub fn parse(text: &str) -> Option<Self> {
        let mut eager_limits = BTreeMap::new();
        let mut version = None;
        for line in text.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            match fields.as_slice() {
                ["mca", "btl", component, "param", name, "value", value]
                    if *name == format!("btl_{component}_eager_limit") =>
                {
                    if let Ok(v) = value.parse::<u64>() {
                        eager_limits.insert((*component).to_owned(), v);
                    }
                }
                ["mca", "btl", _, "version", "\"component", v] if version.is_none() => {
                    version = Some(v.trim_end_matches('"').to_owned());
                }
                _ => {}
            }
        }
        (!eager_limits.is_empty()).then(|| Self {
            name: match version {
                Some(v) => format!("Open MPI {v}"),
                None => "Open MPI".to_owned(),
            },
            eager_limits,
        })
    }

    /// The shared-memory transport's name and eager limit: what two ranks on one node use.
    pub fn shared_memory(&self) -> Option<(&str, u64)> {
        ["vader", "sm"]
            .into_iter()
            .find_map(|c| self.eager_limits.get_key_value(c))
            .map(|(k, &v)| (k.as_str(), v))
    }

    /// The transport two ranks use and its eager limit: shared memory on one node, TCP
    /// between nodes (`across_nodes`), with the words that name it.
    fn transport(&self, across_nodes: bool) -> Option<(&str, u64, &'static str)> {
        if across_nodes {
            self.eager_limits
                .get_key_value("tcp")
                .map(|(k, &v)| (k.as_str(), v, "for TCP between nodes"))
        } else {
            self.shared_memory()
                .map(|(k, v)| (k, v, "for shared memory"))
        }
    }

    /// What the measured largest eager message means next to the configured limit of the
    /// transport the ranks used (shared memory, or TCP when they were on different nodes):
    /// the header, when the two are close; `None` without such a limit.
    pub fn compare(&self, measured: u64, across_nodes: bool) -> Option<String> {
        let (component, limit, words) = self.transport(across_nodes)?;
        let setting = format!(
            "{} configures btl_{component}_eager_limit = {limit} B {words}, its header included",
            self.name
        );
        Some(if measured < limit && limit - measured <= 1024 {
            format!(
                "{setting}: the largest message that completed is {} B smaller, the header the library puts in front of every eager message",
                limit - measured
            )
        } else {
            format!(
                "{setting}; the measured {measured} B is not just under it: these messages went through another transport or protocol ({}a library other than Open MPI's ob1)",
                if across_nodes {
                    ""
                } else {
                    "across nodes, or "
                }
            )
        })
    }
}

impl MpiLibrary {
    /// [`MpiLibrary::compare`] in a short line, for a headline: e.g. `Open MPI 4.1.4:
    /// btl_vader_eager_limit = 4096 B, header included: 56 B of header`.
    pub fn compare_short(&self, measured: u64, across_nodes: bool) -> Option<String> {
        let (component, limit, _) = self.transport(across_nodes)?;
        let head = format!("{}: btl_{component}_eager_limit = {limit} B", self.name);
        Some(if measured < limit && limit - measured <= 1024 {
            format!("{head}, header included: {} B of header", limit - measured)
        } else {
            format!("{head}: another transport or protocol carried these messages")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OMPI_4: &str = r#"mca:btl:self:version:"mca:2.1.0"
mca:btl:self:version:"api:3.1.0"
mca:btl:self:version:"component:4.1.4"
mca:btl:self:param:btl_self_eager_limit:value:1024
mca:btl:tcp:param:btl_tcp_eager_limit:value:65536
mca:btl:tcp:param:btl_tcp_rndv_eager_limit:value:65536
mca:btl:vader:param:btl_vader_eager_limit:value:4096
mca:btl:vader:param:btl_vader_eager_limit:help:Maximum size (in bytes, including header) of "short" messages (must be >= 1).
"#;

    #[test]
    fn ompi_info_gives_the_version_and_each_transports_limit() {
        let lib = MpiLibrary::parse(OMPI_4).expect("parsed");
        assert_eq!(lib.name, "Open MPI 4.1.4");
        assert_eq!(
            lib.eager_limits,
            BTreeMap::from([
                ("self".to_owned(), 1024),
                ("tcp".to_owned(), 65536),
                ("vader".to_owned(), 4096)
            ]),
            "rndv_eager_limit is another setting"
        );
        assert_eq!(lib.shared_memory(), Some(("vader", 4096)));
        let said = lib.compare(4040, false).expect("compared");
        assert!(said.contains("btl_vader_eager_limit = 4096 B"), "{said}");
        assert!(said.contains("56 B smaller"), "{said}");
        assert_eq!(
            lib.compare_short(4040, false).as_deref(),
            Some("Open MPI 4.1.4: btl_vader_eager_limit = 4096 B, header included: 56 B of header")
        );
        assert!(
            lib.compare(65000, false)
                .expect("compared")
                .contains("another transport")
        );
        // Across nodes the ranks talk through TCP: its limit, with the same header.
        let across = lib.compare(65480, true).expect("compared");
        assert!(
            across.contains("btl_tcp_eager_limit = 65536 B for TCP between nodes")
                && across.contains("56 B smaller"),
            "{across}"
        );
    }

    #[test]
    fn open_mpi_5_calls_shared_memory_sm_and_other_libraries_say_nothing() {
        let lib =
            MpiLibrary::parse("mca:btl:sm:param:btl_sm_eager_limit:value:4096\n").expect("parsed");
        assert_eq!(lib.shared_memory(), Some(("sm", 4096)));
        assert_eq!(lib.name, "Open MPI");
        assert_eq!(MpiLibrary::parse("HYDRA build details:\n"), None);
    }
}
