# Python with helm-python-sdk and PyYAML (the deployment tests also need
# kubernetes-validate, checkov and pytest); override with `make PYTHON=... manifests`.
PYTHON ?= .venv/bin/python

.PHONY: manifests check-manifests test-kubernetes

## manifests: render chart/ into kustomize/base and kustomize/components/ingress
manifests:
	PYTHON=$(PYTHON) scripts/render-manifests

## check-manifests: fail when the committed manifests differ from a fresh render
check-manifests:
	PYTHON=$(PYTHON) scripts/render-manifests --check

## test-kubernetes: chart, overlays and their intent (tests/deploy/kubernetes)
test-kubernetes:
	$(PYTHON) -m pytest tests/deploy/kubernetes -q
