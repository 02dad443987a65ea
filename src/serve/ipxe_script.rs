//! The iPXE script `netboot serve` writes itself when the boot root has no
//! `boot.ipxe` (or `autoexec.ipxe`) and nothing names one: it says on the
//! console who the machine is, then chains the image catalogue's menu for
//! the machine's platform and architecture (`menu-${platform}-${buildarch}.ipxe`,
//! written per request by [`crate::catalogue::menu`]), which never offers a
//! binary of another architecture.

/// The name the script is served under (a file of the root that exists for
/// every client, over TFTP and HTTP).
pub const NAME: &str = "netboot.ipxe";

/// The script.
pub fn script() -> String {
    String::from(
        "#!ipxe\n\
         # Written by netboot: the boot root has no boot.ipxe and no profile gives this\n\
         # machine an iPXE script. Put a boot.ipxe in the boot root, or give the machine's\n\
         # profile `boot: {ipxe: ...}`, to choose what iPXE clients boot.\n\
         echo netboot: iPXE ${buildarch} on ${platform}, MAC ${net0/mac}, address ${net0/ip}\n\
         chain menu-${platform}-${buildarch}.ipxe || goto failed\n\
         :failed\n\
         echo netboot: no menu for ${platform} ${buildarch}; trying the next boot device\n\
         sleep 5\n\
         exit\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_the_menu_for_the_machine_and_names_no_binary() {
        let s = script();
        assert!(s.starts_with("#!ipxe\n"));
        assert!(s.contains("chain menu-${platform}-${buildarch}.ipxe || goto failed\n"));
        assert!(s.trim_end().ends_with("exit"), "{s}");
        assert!(
            !s.contains(".efi") && !s.contains(".kpxe"),
            "no binary: {s}"
        );
    }
}
