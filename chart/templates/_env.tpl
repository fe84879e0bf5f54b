{{/*
The roster container's environment from config.*, aws.* and otel.* (extraEnv comes after
it in the Deployment). One list, so roster.validate can refuse an extraEnv entry that
would set one of these a second time.
*/}}
{{- define "roster.env" -}}
{{- $embedded := eq .Values.config.backend "embedded" }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: ROSTER_LISTEN
  value: "0.0.0.0:{{ .Values.config.port }}"
- name: ROSTER_BACKEND
  value: {{ .Values.config.backend | quote }}
{{- if $embedded }}
- name: ROSTER_DATA_DIR
  value: {{ .Values.config.dataDir | quote }}
{{- else }}
- name: ROSTER_TABLE
  value: {{ .Values.config.table | quote }}
- name: ROSTER_BUCKET
  value: {{ .Values.config.bucket | quote }}
- name: AWS_REGION
  value: {{ .Values.aws.region | quote }}
{{- with .Values.aws.endpointUrl }}
- name: AWS_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- with .Values.config.avatarBaseUrl }}
- name: ROSTER_AVATAR_BASE_URL
  value: {{ . | quote }}
{{- end }}
- name: ROSTER_MAX_AVATAR_BYTES
  value: {{ .Values.config.maxAvatarBytes | int64 | quote }}
- name: ROSTER_MAX_AVATAR_PIXELS
  value: {{ .Values.config.maxAvatarPixels | int64 | quote }}
- name: ROSTER_CONCURRENT_UPLOADS
  value: {{ .Values.config.concurrentUploads | int64 | quote }}
- name: ROSTER_SHUTDOWN_TIMEOUT
  value: "{{ .Values.config.shutdownTimeoutSeconds }}s"
- name: ROSTER_CREATE_TIMEOUT
  value: "{{ .Values.config.createTimeoutSeconds }}s"
- name: ROSTER_KEEPALIVE_TIMEOUT
  value: "{{ .Values.config.keepaliveTimeoutSeconds }}s"
- name: ROSTER_UPLOAD_STALL_TIMEOUT
  value: "{{ .Values.config.uploadStallTimeoutSeconds }}s"
- name: ROSTER_UPLOAD_DEADLINE
  value: "{{ .Values.config.uploadDeadlineSeconds }}s"
- name: ROSTER_ORPHAN_GRACE
  value: "{{ .Values.config.orphanGraceSeconds }}s"
- name: ROSTER_AVATAR_MAX_AGE
  value: "{{ .Values.config.avatarMaxAgeSeconds }}s"
- name: ROSTER_LOG_FORMAT
  value: {{ .Values.config.logFormat | quote }}
- name: RUST_LOG
  value: {{ .Values.config.logFilter | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .Values.otel.serviceName | quote }}
{{- $attributes := list (printf "service.version=%s" .Chart.AppVersion) (printf "k8s.namespace.name=%s" .Release.Namespace) "k8s.pod.name=$(K8S_POD_NAME)" "k8s.node.name=$(K8S_NODE_NAME)" }}
{{- range $key, $value := .Values.otel.resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%s" $key $value) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- with .Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $.Values.otel.protocol | quote }}
{{- end }}
{{- end }}
