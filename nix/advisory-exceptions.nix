# The advisory ids deny.toml's [advisories] ignore lists (each entry with its reason and
# review date there), so that cargo-audit skips exactly the advisories cargo-deny does and an
# exception is written once. Entries naming a yanked crate ("foo@1.2.3") are cargo-deny's
# alone.
{config ? builtins.fromTOML (builtins.readFile ../deny.toml)}: let
  idOf = entry:
    if builtins.isString entry
    then entry
    else entry.id or null;
  isAdvisory = id: id != null && builtins.match "[A-Z]+-[0-9]{4}-[0-9]{4}" id != null;
in
  builtins.filter isAdvisory (map idOf (config.advisories.ignore or []))
