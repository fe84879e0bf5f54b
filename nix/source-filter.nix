# Which files of the repository each derivation of the flake reads, as pure functions of
# a path relative to the repository root ("src/main.rs"). nix/source.nix filters the
# flake's source with them; tests/deploy/nix evaluates them against `git ls-files`, so
# what each build sees is checked against the real tree, not against examples.
#
# Each selection has `file : path -> bool` and `dir : path -> bool`; a file is in the
# source when it passes `file` and every directory above it passes `dir` (the walk of
# builtins.path).
let
  inherit (builtins) any elem stringLength substring;

  hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
  hasSuffix = suffix: s: let
    n = stringLength s;
    k = stringLength suffix;
  in
    k <= n && substring (n - k) k s == suffix;
  # `path` is `dir` or lies below it.
  within = dir: path: path == dir || hasPrefix "${dir}/" path;

  # The files named in `files`, and those below `dirs` that `accept` takes, minus
  # everything within `except`.
  select = {
    files ? [],
    dirs ? [],
    except ? [],
    accept ? _: true,
  }: let
    excluded = path: any (e: within e path) except;
  in {
    file = path: !(excluded path) && (elem path files || (any (d: within d path) dirs && accept path));
    # A directory on the way to a selected file or below a selected directory.
    dir = path:
      !(excluded path)
      && (any (d: within d path || within path d) dirs || any (f: hasPrefix "${path}/" f) files);
  };

  union = selections: {
    file = path: any (s: s.file path) selections;
    dir = path: any (s: s.dir path) selections;
  };

  # What cargo reads to build and test the workspace.
  rust = union [
    (select {
      files = ["Cargo.toml" "Cargo.lock" "build.rs" ".cargo/config.toml"];
      dirs = ["src" "benches" "examples"];
    })
    # Workspace members (the image stripper, with its tests' fixture scripts); the fuzz
    # target is a workspace of its own, built by `cargo fuzz`.
    (select {
      dirs = ["crates"];
      except = ["crates/imaging/fuzz"];
    })
    # The Rust integration tests. tests/ also holds the Python suites, their pins
    # (requirements.in, requirements.txt) and moto's launcher, none of which cargo
    # compiles (the tests that start moto run under ./scripts/test).
    (select {
      dirs = ["tests"];
      except = ["tests/deploy" "tests/e2e" "tests/support"];
      accept = hasSuffix ".rs";
    })
  ];
in {
  inherit rust;

  # cargo-deny reads the workspace (through cargo metadata) and its policy.
  deny = union [rust (select {files = ["deny.toml"];})];

  # The chart and the Kustomize tree it is rendered into.
  deploy = select {dirs = ["chart" "kustomize"];};

  terraform = select {
    dirs = ["terraform"];
    accept = path: hasSuffix ".tf" path || hasSuffix ".tfvars" path;
  };

  # Every Nix file of the flake, for the linters.
  nix = select {
    files = ["flake.nix"];
    dirs = ["nix"];
    accept = hasSuffix ".nix";
  };

  # Every TOML file of the repository, for taplo (the flake's source is the git tree,
  # so no build output is walked).
  toml = {
    file = hasSuffix ".toml";
    dir = _: true;
  };
}
