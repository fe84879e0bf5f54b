# The OCI image: roster and the CA bundle, nothing else (no shell, no coreutils).
# `nix build .#image` gives a docker-archive tarball: `docker load < result`.
{
  dockerTools,
  cacert,
  roster,
  # Its source repository, revision and license (nix/image-labels.nix).
  labels,
  settings ? import ./image-settings.nix,
}: let
  inherit (settings) uid gid userName port dataDir;
  owner = "${toString uid}:${toString gid}";
  certs = "${cacert}/etc/ssl/certs/ca-bundle.crt";
in
  dockerTools.buildLayeredImage {
    name = "roster";
    # The chart's default tag is its appVersion, the crate's version.
    tag = roster.version;

    # /etc/ssl/certs for any code that looks in the usual place.
    contents = [cacert];

    # Run under fakeroot in the customisation layer's root, so ownership sticks.
    # /tmp: uploads are spooled there, and Nix images have none.
    fakeRootCommands = ''
      mkdir -p ./tmp ./etc .${dataDir}
      chmod 1777 ./tmp
      echo 'root:x:0:0:root:/var/empty:/sbin/nologin' > ./etc/passwd
      echo '${userName}:x:${toString uid}:${toString gid}:${userName}:${dataDir}:/sbin/nologin' >> ./etc/passwd
      echo 'root:x:0:' > ./etc/group
      echo '${userName}:x:${toString gid}:' >> ./etc/group
      chown ${owner} .${dataDir}
      chmod 0750 .${dataDir}
    '';

    config = {
      Entrypoint = ["${roster}/bin/roster"];
      User = owner;
      WorkingDir = dataDir;
      ExposedPorts = {"${toString port}/tcp" = {};};
      Env = [
        "ROSTER_LISTEN=0.0.0.0:${toString port}"
        "ROSTER_DATA_DIR=${dataDir}"
        "SSL_CERT_FILE=${certs}"
        "TMPDIR=/tmp"
      ];
      Labels = {
        "org.opencontainers.image.title" = "roster";
        "org.opencontainers.image.description" = "User-management service with avatar images";
        "org.opencontainers.image.source" = labels.source;
        "org.opencontainers.image.version" = roster.version;
        "org.opencontainers.image.revision" = labels.revision;
        "org.opencontainers.image.licenses" = labels.license;
      };
    };
  }
