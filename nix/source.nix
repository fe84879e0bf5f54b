# Filtered sources. Each derivation sees only the files it reads, so a change to the
# chart, the Kustomize overlays, Terraform or the docs never rebuilds the binary, and a
# change to the Rust code never re-renders the manifests.
{
  lib,
  root,
}: let
  fs = lib.fileset;
  present = path: fs.maybeMissing path;
  # The Rust integration tests and their fixtures; tests/ also holds the Python suites
  # (tests/deploy and *.py), which cargo never reads.
  rustTests =
    if builtins.pathExists (root + "/tests")
    then
      fs.difference
      (fs.fileFilter (file: !(file.hasExt "py" || file.hasExt "pyc")) (root + "/tests"))
      (present (root + "/tests/deploy"))
    else fs.unions [];
in {
  rust = fs.toSource {
    inherit root;
    fileset = fs.unions [
      (root + "/Cargo.toml")
      (root + "/Cargo.lock")
      (root + "/src")
      (present (root + "/build.rs"))
      (present (root + "/.cargo/config.toml"))
      (present (root + "/benches"))
      (present (root + "/examples"))
      # Workspace members (the image stripper); its fuzz target builds on its own.
      (fs.difference (present (root + "/crates")) (present (root + "/crates/imaging/fuzz")))
      rustTests
    ];
  };

  # The chart and the Kustomize tree it is rendered into.
  deploy = fs.toSource {
    inherit root;
    fileset = fs.unions [
      (present (root + "/chart"))
      (present (root + "/kustomize"))
    ];
  };

  terraform = fs.toSource {
    inherit root;
    fileset =
      if builtins.pathExists (root + "/terraform")
      then fs.fileFilter (file: file.hasExt "tf" || file.hasExt "tfvars") (root + "/terraform")
      else fs.unions [];
  };

  # Every Nix file of the flake, for the linters.
  nix = fs.toSource {
    inherit root;
    fileset = fs.unions [
      (root + "/flake.nix")
      (fs.fileFilter (file: file.hasExt "nix") (root + "/nix"))
    ];
  };
}
