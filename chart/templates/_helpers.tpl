{{/*
The chart name, or nameOverride, cut to the 63 characters a label value allows.
*/}}
{{- define "roster.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of every resource: fullnameOverride, else the release name when it already
holds the chart name ("roster" for release "roster"), else "<release>-<chart>".
*/}}
{{- define "roster.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "roster.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The app.kubernetes.io/* labels every resource carries.
*/}}
{{- define "roster.labels" -}}
helm.sh/chart: {{ include "roster.chart" . }}
{{ include "roster.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: roster
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: immutable once a Deployment exists, so never a version in them.
*/}}
{{- define "roster.selectorLabels" -}}
app.kubernetes.io/name: {{ include "roster.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The service account the pods run as.
*/}}
{{- define "roster.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "roster.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Mount the Kubernetes API token only when asked to. IRSA does not need it: the EKS pod
identity webhook adds its own projected sts.amazonaws.com token volume to the pod.
*/}}
{{- define "roster.automountToken" -}}
{{- if .Values.serviceAccount.automountToken }}true{{ else }}false{{ end }}
{{- end }}

{{/*
The image reference: repository, then the digest when given, else the tag (default
appVersion).
*/}}
{{- define "roster.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Settings that cannot work together stop the render with a message naming the values.
*/}}
{{- define "roster.validate" -}}
{{- include "roster.budget" . }}
{{- $set := list }}
{{- range (include "roster.env" . | fromYamlArray) }}
{{- $set = append $set .name }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if has .name $set }}
{{- fail (printf "extraEnv sets %s, which the chart sets from its values: change the value instead (see chart/values.yaml)" .name) }}
{{- end }}
{{- end }}
{{- if eq .Values.config.backend "embedded" }}
{{- if .Values.autoscaling.enabled }}
{{- fail "config.backend=embedded keeps its data on one pod's disk: set autoscaling.enabled=false" }}
{{- end }}
{{- if ne (int .Values.replicaCount) 1 }}
{{- fail "config.backend=embedded keeps its data on one pod's disk: set replicaCount=1" }}
{{- end }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- end }}

{{/*
checkov findings this chart accepts on purpose, each with its reason, as inline skips
(annotations checkov reads). They appear only while the reason holds.
*/}}
{{- define "roster.checkovSkips" -}}
{{- if not .Values.image.digest }}
checkov.io/skip1: CKV_K8S_43=no digest is set (image.digest), so the image is the immutable appVersion release tag; production pins a digest (the EKS overlay does)
checkov.io/skip2: CKV_K8S_15=IfNotPresent suits an immutable release tag; Always makes every pod start depend on the registry and breaks images loaded into minikube
{{- end }}
{{- end }}
