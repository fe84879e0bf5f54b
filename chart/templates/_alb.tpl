{{/*
The AWS Load Balancer Controller annotations written from ingress.alb.* (a YAML map).
roster.budget checks these values and refuses ingress.annotations that would override one.
*/}}
{{- define "roster.albAnnotations" -}}
{{- $alb := .Values.ingress.alb }}
{{- $hc := $alb.healthCheck }}
alb.ingress.kubernetes.io/scheme: {{ $alb.scheme | quote }}
# Pod IPs as targets: the ALB health-checks each pod, and the controller's readiness gate
# (namespace label elbv2.k8s.aws/pod-readiness-gate-inject) can hold a rollout for it.
alb.ingress.kubernetes.io/target-type: ip
alb.ingress.kubernetes.io/listen-ports: '[{"HTTP": 80}, {"HTTPS": 443}]'
alb.ingress.kubernetes.io/ssl-redirect: "443"
alb.ingress.kubernetes.io/certificate-arn: {{ $alb.certificateArn | quote }}
alb.ingress.kubernetes.io/ssl-policy: {{ $alb.sslPolicy | quote }}
alb.ingress.kubernetes.io/healthcheck-path: {{ .Values.probes.readiness.path | quote }}
alb.ingress.kubernetes.io/healthcheck-interval-seconds: {{ $hc.intervalSeconds | int | quote }}
alb.ingress.kubernetes.io/healthcheck-timeout-seconds: {{ $hc.timeoutSeconds | int | quote }}
alb.ingress.kubernetes.io/healthy-threshold-count: {{ $hc.healthyThreshold | int | quote }}
alb.ingress.kubernetes.io/unhealthy-threshold-count: {{ $hc.unhealthyThreshold | int | quote }}
alb.ingress.kubernetes.io/success-codes: "200"
# The draining window: after deregistration, no new requests, and up to this long for
# requests in flight (it ends as soon as roster has closed every connection).
alb.ingress.kubernetes.io/target-group-attributes: {{ printf "deregistration_delay.timeout_seconds=%d" (int $alb.deregistrationDelaySeconds) | quote }}
alb.ingress.kubernetes.io/load-balancer-attributes: {{ printf "idle_timeout.timeout_seconds=%d" (int $alb.idleTimeoutSeconds) | quote }}
{{- end }}
