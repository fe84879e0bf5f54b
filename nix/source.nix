# Filtered sources. Each derivation sees only the files it reads, so a change to the
# chart, the Kustomize overlays, Terraform, the docs or the Python test pins never
# rebuilds the binary, and a change to the Rust code never re-renders the manifests.
# The selections themselves are pure functions of the path, in nix/source-filter.nix.
{
  lib,
  root,
  selections ? import ./source-filter.nix,
}: let
  prefix = "${toString root}/";
  relative = path: lib.removePrefix prefix (toString path);
  source = name: selection:
    lib.cleanSourceWith {
      src = root;
      name = "roster-${name}-source";
      filter = path: type:
        if type == "directory"
        then selection.dir (relative path)
        else selection.file (relative path);
    };
in
  lib.mapAttrs source selections
