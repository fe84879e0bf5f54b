# roster built by crane with the toolchain of rust-toolchain.toml, the checks that reuse
# its dependency build (every one over the whole workspace), and its SBOM.
{
  pkgs,
  craneLib,
  # nix/source.nix: the Rust build's files, plus deny.toml, plus every TOML file.
  sources,
  # The RustSec advisory database, a flake = false input.
  advisory-db,
}: let
  inherit (pkgs) lib stdenv;
  src = sources.rust;

  commonArgs = {
    inherit src;
    strictDeps = true;
    # aws-lc-sys (rustls' crypto through the AWS SDK) compiles C; stdenv brings the
    # compiler, cmake and perl cover its other build paths. cmake's setup hook would
    # otherwise take over the configure phase.
    nativeBuildInputs = [pkgs.cmake pkgs.perl];
    dontUseCmakeConfigure = true;
    buildInputs = lib.optionals stdenv.hostPlatform.isDarwin [pkgs.libiconv];
  };

  # Every dependency of every workspace member (dev-dependencies included), compiled once
  # and reused by the package and each check.
  cargoArtifacts = craneLib.buildDepsOnly (commonArgs // {cargoExtraArgs = "--locked --workspace";});

  roster = craneLib.buildPackage (commonArgs
    // {
      inherit cargoArtifacts;
      # The tests run in the nextest check, not in every package build.
      doCheck = false;
      meta = {
        description = "User-management service with avatar images";
        license = lib.licenses.mit;
        mainProgram = "roster";
      };
    });

  # What crates/imaging/tests/fixtures/make_fixtures.py and verify.py run: Pillow (with
  # its WebP and LittleCMS support), exiftool and cwebp.
  imagingTestTools = {
    python = pkgs.python3.withPackages (ps: [ps.pillow]);
    tools = [pkgs.exiftool pkgs.libwebp];
  };

  # cargo-deny at the version scripts/install-cargo-deny installs, so deny.toml means the
  # same thing in ./scripts/test, here and in the workflow (its CLI and configuration
  # changed between releases). Built from its crates.io tarball and lock file.
  cargo-deny = let
    version = "0.20.2";
  in
    craneLib.buildPackage {
      pname = "cargo-deny";
      inherit version;
      src = craneLib.downloadCargoPackage {
        name = "cargo-deny";
        inherit version;
        source = "registry+https://github.com/rust-lang/crates.io-index";
        checksum = "e528dfcbe739af7ce37a77d3d6df1b29dd6887b1c701d888820c0f16b864f737";
      };
      strictDeps = true;
      doCheck = false;
      meta.mainProgram = "cargo-deny";
    };

  sbomTarget = stdenv.hostPlatform.rust.rustcTarget;
in {
  inherit roster cargoArtifacts cargo-deny;

  # A CycloneDX 1.5 SBOM of the roster binary: every crate compiled into it or into its
  # build (build scripts and proc macros included, dev-dependencies not), resolved for
  # this system's target. cargo-cyclonedx reads cargo metadata offline from the vendored
  # crates; SOURCE_DATE_EPOCH (set by Nix) makes it reproducible: no serial number, a
  # fixed timestamp.
  sbom = craneLib.mkCargoDerivation {
    inherit src;
    strictDeps = true;
    pname = "roster-sbom";
    cargoArtifacts = null;
    doInstallCargoArtifacts = false;
    nativeBuildInputs = [pkgs.cargo-cyclonedx];
    buildPhaseCargoCommand = ''
      cargo cyclonedx --manifest-path Cargo.toml --all --describe binaries \
        --format json --spec-version 1.5 --target ${sbomTarget}
    '';
    installPhaseCommand = ''
      install -D -m 0644 roster_bin.cdx.json $out/roster.cdx.json
    '';
  };

  checks = {
    roster-clippy = craneLib.cargoClippy (commonArgs
      // {
        inherit cargoArtifacts;
        cargoClippyExtraArgs = "--workspace --all-targets -- --deny warnings";
      });

    roster-doc = craneLib.cargoDoc (commonArgs
      // {
        inherit cargoArtifacts;
        cargoDocExtraArgs = "--workspace --no-deps";
        env.RUSTDOCFLAGS = "--deny warnings";
      });

    roster-fmt = craneLib.cargoFmt {
      inherit src;
      cargoExtraArgs = "--all";
    };

    roster-toml-fmt = craneLib.taploFmt {
      src = sources.toml;
      taploExtraArgs = "--config nix/taplo.toml";
    };

    # Every workspace member's tests, the image stripper's against fixtures made at test
    # time by its Python scripts. roster's own integration tests (tests/api) start moto
    # from the project's Python venv and run with ./scripts/test.
    roster-nextest = craneLib.cargoNextest (commonArgs
      // {
        inherit cargoArtifacts;
        nativeBuildInputs = commonArgs.nativeBuildInputs ++ imagingTestTools.tools;
        ROSTER_TEST_PYTHON = "${imagingTestTools.python}/bin/python3";
        cargoNextestExtraArgs = "--workspace --no-tests=fail -E 'not binary_id(roster::api)'";
      });

    # Advisories (against the pinned database), bans, licenses and sources, by deny.toml.
    # cargo-deny opens a database only as a git checkout in a directory named after the
    # database's URL: nix/advisory-db-checkout makes one of the input, offline.
    roster-deny = (craneLib.overrideScope (_: _: {inherit cargo-deny;})).cargoDeny {
      src = sources.deny;
      nativeBuildInputs = [pkgs.git];
      preBuild = ''
        bash ${./advisory-db-checkout} ${advisory-db} "$CARGO_HOME/advisory-dbs" ${advisory-db.rev}
      '';
      cargoDenyExtraArgs = "--offline --locked";
      cargoDenyChecks = "advisories bans licenses sources";
    };

    # The same database through cargo-audit, as crane's quick start does: a second
    # reading of the advisories, with deny.toml's exceptions (and crane's default flag).
    roster-audit = craneLib.cargoAudit {
      inherit src advisory-db;
      cargoAuditExtraArgs = lib.concatMapStringsSep " " (id: "--ignore ${id}") (["yanked"] ++ import ./advisory-exceptions.nix {});
    };
  };
}
