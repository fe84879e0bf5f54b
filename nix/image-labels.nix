# What the image's OCI annotations say (org.opencontainers.image.*), taken from the flake
# itself; nix/image.nix sets them as the image's labels.
{
  # The flake's `self`: a clean git tree has `rev`.
  self,
  root ? ../.,
}: let
  inherit (builtins.fromTOML (builtins.readFile (root + "/Cargo.toml"))) package;
in {
  # The repository this flake is published from (Cargo.toml's `repository`). The workflow
  # fails when it is not the repository it runs in.
  source = package.repository;
  # A tree with uncommitted changes names no commit.
  revision = self.rev or "dirty";
  # Cargo.toml's SPDX expression.
  inherit (package) license;
}
