{
  description = "roster: a user-management service with avatar images, its OCI image and its manifests";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    crane.url = "github:ipetkov/crane";
    rust-overlay = {
      url = "github:oxalica/rust-overlay";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    # The RustSec advisory database for the deny and audit checks, pinned like the rest:
    # `nix flake lock --update-input advisory-db` moves it to the newest commit.
    advisory-db = {
      url = "github:rustsec/advisory-db";
      flake = false;
    };
  };

  outputs = {
    self,
    nixpkgs,
    crane,
    rust-overlay,
    advisory-db,
  }: let
    inherit (nixpkgs) lib;

    # The image is built for each Linux system; darwin gets the binary, the manifests,
    # the checks that run there and the dev shell.
    linuxSystems = ["x86_64-linux" "aarch64-linux"];
    systems = linuxSystems ++ ["aarch64-darwin"];

    perSystem = system: let
      pkgs = import nixpkgs {
        inherit system;
        overlays = [rust-overlay.overlays.default];
      };
      isLinux = lib.elem system linuxSystems;

      # One toolchain for rustup and Nix users alike: rust-toolchain.toml, through
      # rust-overlay, handed to crane.
      toolchain = p: p.rust-bin.fromRustupToolchainFile ./rust-toolchain.toml;
      craneLib = (crane.mkLib pkgs).overrideToolchain toolchain;

      sources = import ./nix/source.nix {
        inherit lib;
        root = ./.;
      };

      rust = import ./nix/rust.nix {
        inherit pkgs craneLib sources advisory-db;
      };
      inherit (rust) roster sbom;

      deploy = import ./nix/manifests.nix {
        inherit lib;
        inherit (pkgs) runCommand kubernetes-helm kustomize python3;
        root = ./.;
        src = sources.deploy;
      };

      image = import ./nix/image.nix {
        inherit (pkgs) dockerTools cacert;
        inherit roster;
        labels = import ./nix/image-labels.nix {inherit self;};
      };

      lintChecks = {
        # Terraform's canonical format, checked with OpenTofu's identical `fmt`
        # (nixpkgs ships terraform under an unfree licence).
        terraform-fmt = pkgs.runCommand "roster-terraform-fmt" {nativeBuildInputs = [pkgs.opentofu];} ''
          export HOME="$TMPDIR"
          cd ${sources.terraform}
          tofu fmt -check -diff -recursive .
          touch $out
        '';

        nix-lint = pkgs.runCommand "roster-nix-lint" {nativeBuildInputs = [pkgs.deadnix pkgs.statix pkgs.alejandra];} ''
          cd ${sources.nix}
          deadnix --fail .
          statix check .
          alejandra --check .
          touch $out
        '';
      };

      checks =
        rust.checks
        // lintChecks
        // deploy.overlayChecks
        // {
          inherit roster sbom;
          kustomize-base-fresh = deploy.baseCheck;
        }
        // lib.optionalAttrs isLinux {inherit image;};
    in {
      inherit checks;

      packages =
        {
          default = roster;
          inherit roster sbom;
          inherit (deploy) manifests;
          inherit (rust) cargo-deny;
        }
        // lib.optionalAttrs isLinux {inherit image;};

      # `nix run` serves on 0.0.0.0:8080 with the embedded backend (data in ./data).
      apps.default = {
        type = "app";
        program = "${roster}/bin/roster";
        meta.description = "Serve roster with the embedded backend";
      };

      devShells = {
        default = craneLib.devShell {
          inherit checks;
          packages = with pkgs; [
            cargo-nextest
            rust.cargo-deny
            cargo-audit
            cargo-cyclonedx
            taplo
            kubernetes-helm
            kubectl
            kustomize
            yq-go
            opentofu
            awscli2
            (python3.withPackages (ps: with ps; [pytest pyyaml boto3 moto requests]))
            deadnix
            statix
            alejandra
            actionlint
            shellcheck
            zizmor
          ];
        };

        # What the workflow's cargo-deny job needs, and no more: the toolchain (cargo
        # metadata), cargo-deny and git (it fetches the live advisory database).
        deny = pkgs.mkShellNoCC {
          packages = [(toolchain pkgs) rust.cargo-deny pkgs.git];
        };
      };

      formatter = pkgs.alejandra;
    };

    bySystem = lib.genAttrs systems perSystem;
    collect = output: lib.mapAttrs (_: outputs: outputs.${output}) bySystem;
  in {
    packages = collect "packages";
    apps = collect "apps";
    checks = collect "checks";
    devShells = collect "devShells";
    formatter = collect "formatter";
  };
}
