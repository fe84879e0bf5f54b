"""Print the Kubernetes documents of some YAML files as one canonical JSON list.

Used by the kustomize-base-fresh check: a fresh `helm template` and the committed
kustomize/base compare equal when they hold the same objects, whatever their file
layout, key order, quoting or comments.
"""

import json
import sys

import yaml

documents = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as stream:
        documents.extend(doc for doc in yaml.safe_load_all(stream) if doc)
documents.sort(key=lambda doc: (doc.get("kind", ""), doc.get("metadata", {}).get("name", "")))
json.dump(documents, sys.stdout, indent=1, sort_keys=True)
print()
