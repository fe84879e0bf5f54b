# What the OCI image promises the chart (chart/values.yaml) and the cluster: who the
# process runs as, where it listens and where the embedded backend keeps its data.
# tests/deploy/nix/test_image_matches_chart.py holds these against the chart.
{
  # "nonroot", as in distroless images; the chart's runAsUser, runAsGroup and fsGroup.
  uid = 65532;
  gid = 65532;
  userName = "roster";
  # ROSTER_LISTEN's port and the container port.
  port = 8080;
  # ROSTER_DATA_DIR: owned by uid, so the embedded backend works without a volume too.
  dataDir = "/var/lib/roster";
}
