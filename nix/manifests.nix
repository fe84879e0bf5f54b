# The manifests a cluster receives, built in the sandbox from the committed chart and
# Kustomize tree: the chart rendered by helm, kustomize/base as committed, and each
# overlay. `nix build .#manifests` writes $out/chart.yaml, $out/base.yaml and
# $out/<overlay>.yaml.
{
  lib,
  runCommand,
  kubernetes-helm,
  kustomize,
  python3,
  root,
  src,
}: let
  # How the chart is rendered into kustomize/base. scripts/render-manifests renders the
  # committed copy with the same settings (tests/deploy/nix/test_flake_sources.py
  # holds the two together); helm template fakes the cluster, so all of it is pinned.
  render = {
    release = "roster";
    namespace = "roster";
    kubeVersion = "v1.35.0";
    apiVersions = [
      "apps/v1"
      "autoscaling/v2"
      "policy/v1"
      "networking.k8s.io/v1"
    ];
  };

  # Hooks (the `helm test` pod) never reach the manifests.
  helmTemplate = extra:
    lib.escapeShellArgs ([
        "template"
        render.release
        "${src}/chart"
        "--namespace"
        render.namespace
        "--kube-version"
        render.kubeVersion
        "--skip-tests"
        "--no-hooks"
      ]
      ++ lib.concatMap (v: ["--api-versions" v]) render.apiVersions
      ++ extra);

  overlaysDir = root + "/kustomize/overlays";
  overlays =
    if builtins.pathExists overlaysDir
    then builtins.attrNames (lib.filterAttrs (_: type: type == "directory") (builtins.readDir overlaysDir))
    else [];

  tools = [kubernetes-helm kustomize (python3.withPackages (ps: [ps.pyyaml]))];

  # helm wants a writable home for its cache and config, even for `template`.
  setup = ''
    export HOME="$TMPDIR" XDG_CACHE_HOME="$TMPDIR/cache" XDG_CONFIG_HOME="$TMPDIR/config" XDG_DATA_HOME="$TMPDIR/data"
    test -d ${src}/chart || { echo "no chart/ in the source" >&2; exit 1; }
  '';

  # The documents of some YAML files as one sorted list, so a render and its committed
  # copy compare equal whatever the file layout, key order, quoting or comments.
  normalize = ''
    normalize() {
      python3 ${./normalize-manifests.py} "$@"
    }
  '';

  overlayCheck = name:
    runCommand "roster-kustomize-${name}" {nativeBuildInputs = tools;} ''
      export HOME="$TMPDIR"
      kustomize build ${src}/kustomize/overlays/${name} > overlay.yaml
      test -s overlay.yaml || { echo "overlay ${name} built nothing" >&2; exit 1; }
      install -D overlay.yaml $out/${name}.yaml
    '';
in {
  inherit render overlays;

  manifests = runCommand "roster-manifests" {nativeBuildInputs = tools;} ''
    ${setup}
    mkdir -p $out
    helm ${helmTemplate []} > $out/chart.yaml
    kustomize build ${src}/kustomize/base > $out/base.yaml
    ${lib.concatMapStrings (name: ''
        kustomize build ${src}/kustomize/overlays/${name} > $out/${name}.yaml
      '')
      overlays}
  '';

  # kustomize/base holds the chart rendered with its defaults (beside its
  # kustomization.yaml), and kustomize/components/ingress the chart's Ingress; a chart
  # change without a fresh render fails here.
  baseCheck = runCommand "roster-kustomize-base-fresh" {nativeBuildInputs = tools;} ''
    ${setup}
    ${normalize}
    stale() {
      echo "$1 is stale: run scripts/render-manifests and commit the result" >&2
      exit 1
    }
    helm ${helmTemplate []} > fresh.yaml
    committed=()
    for f in ${src}/kustomize/base/*.yaml ${src}/kustomize/base/*.yml; do
      case "$(basename "$f")" in
        kustomization.yaml | kustomization.yml | "*.yaml" | "*.yml") ;;
        *) committed+=("$f") ;;
      esac
    done
    test "''${#committed[@]}" -gt 0 || { echo "kustomize/base has no rendered manifests" >&2; exit 1; }
    normalize fresh.yaml > fresh.norm.yaml
    normalize "''${committed[@]}" > committed.norm.yaml
    diff -u committed.norm.yaml fresh.norm.yaml || stale kustomize/base
    kustomize build ${src}/kustomize/base > /dev/null

    ingress=${src}/kustomize/components/ingress/ingress.yaml
    if [ -e "$ingress" ]; then
      helm ${helmTemplate ["--set" "ingress.enabled=true" "--show-only" "templates/ingress.yaml"]} > fresh-ingress.yaml
      diff -u <(normalize "$ingress") <(normalize fresh-ingress.yaml) || stale kustomize/components/ingress
    fi
    touch $out
  '';

  overlayChecks = lib.listToAttrs (map (name: lib.nameValuePair "kustomize-${name}" (overlayCheck name)) overlays);
}
