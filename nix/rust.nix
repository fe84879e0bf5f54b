# roster built by crane with the toolchain of rust-toolchain.toml, and the checks that
# reuse its dependency build.
{
  pkgs,
  craneLib,
  src,
}: let
  inherit (pkgs) lib stdenv;

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

  # Every dependency, compiled once and reused by the package and each check.
  cargoArtifacts = craneLib.buildDepsOnly commonArgs;

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
in {
  inherit roster cargoArtifacts;

  checks = {
    roster-clippy = craneLib.cargoClippy (commonArgs
      // {
        inherit cargoArtifacts;
        cargoClippyExtraArgs = "--all-targets -- --deny warnings";
      });

    roster-fmt = craneLib.cargoFmt {inherit src;};

    # Unit tests and the binary's own tests. The integration tests under tests/ start
    # the server against moto (a Python venv) and are run by ./scripts/test instead:
    # the sandbox has loopback but none of the venv's packages.
    roster-nextest = craneLib.cargoNextest (commonArgs
      // {
        inherit cargoArtifacts;
        cargoNextestExtraArgs = "--lib --bins --no-tests=pass";
      });
  };
}
