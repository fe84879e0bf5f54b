{{/*
The failure budget (docs/deployment.md, "Failure budget"): how a drain, a rollout, an
upload burst and a store blip stay harmless depends on relations between values, not on
any one of them. Each relation below stops the render with a message naming the values
involved and what breaks; included from roster.validate.
*/}}

{{/*
MiB of /tmp the upload spool can use: config.concurrentUploads x 2 x config.maxAvatarBytes
(each upload may hold a second, metadata-stripped copy), rounded up.
*/}}
{{- define "roster.spoolMi" -}}
{{- $bytes := mul (int64 .Values.config.concurrentUploads) 2 (int64 .Values.config.maxAvatarBytes) }}
{{- div (add $bytes 1048575) 1048576 }}
{{- end }}

{{/*
MiB of the /tmp emptyDir: tmp.sizeLimitMi, or the spool plus tmp.marginMi.
*/}}
{{- define "roster.tmpMi" -}}
{{- if .Values.tmp.sizeLimitMi }}
{{- int64 .Values.tmp.sizeLimitMi }}
{{- else }}
{{- add (include "roster.spoolMi" . | int64) (int64 .Values.tmp.marginMi) }}
{{- end }}
{{- end }}

{{/*
MiB of ephemeral-storage requested and allowed: ephemeralStorage.mi, or /tmp plus logs.
*/}}
{{- define "roster.ephemeralMi" -}}
{{- if .Values.ephemeralStorage.mi }}
{{- int64 .Values.ephemeralStorage.mi }}
{{- else }}
{{- add (include "roster.tmpMi" . | int64) (int64 .Values.ephemeralStorage.logsMi) }}
{{- end }}
{{- end }}

{{- define "roster.budget" -}}
{{- $v := .Values }}
{{- $preStop := int $v.lifecycle.preStopSleepSeconds }}
{{- $shutdown := int $v.config.shutdownTimeoutSeconds }}
{{- $grace := int $v.terminationGracePeriodSeconds }}
{{- $create := int $v.config.createTimeoutSeconds }}
{{- $lag := int $v.failureBudget.deregistrationLagSeconds }}
{{- $blip := int $v.failureBudget.storeBlipSeconds }}
{{- $removal := int $v.failureBudget.brokenPodRemovalSeconds }}

{{- /* Shutdown: routing stops, then the listener closes, then in-flight work ends, then SIGKILL. */}}
{{- if lt $preStop $lag }}
{{- fail (printf "failure budget: lifecycle.preStopSleepSeconds (%d) must be at least failureBudget.deregistrationLagSeconds (%d): SIGTERM would close the listener while kube-proxy or the ALB still send the pod requests, and those get 502" $preStop $lag) }}
{{- end }}
{{- if gt $create $shutdown }}
{{- fail (printf "failure budget: config.createTimeoutSeconds (%d) must not exceed config.shutdownTimeoutSeconds (%d): a create whose body arrived just before SIGTERM could still be working when the shutdown timeout ends it" $create $shutdown) }}
{{- end }}
{{- if le $grace (add $preStop $shutdown) }}
{{- fail (printf "failure budget: terminationGracePeriodSeconds (%d) must exceed lifecycle.preStopSleepSeconds + config.shutdownTimeoutSeconds (%d), or in-flight requests are killed" $grace (add $preStop $shutdown)) }}
{{- end }}
{{- if lt (int $v.config.orphanGraceSeconds) (mul 4 $create) }}
{{- fail (printf "failure budget: config.orphanGraceSeconds (%d) must be at least 4 x config.createTimeoutSeconds (%d): the sweeper could remove the avatar of a create still in progress, and the server refuses to start" (int $v.config.orphanGraceSeconds) (mul 4 $create)) }}
{{- end }}

{{- /* Readiness: ride out a blip, take a broken pod out in bounded time. A probe fails if it
starts during the blip or up to its timeout before it, so at most
ceil((blip + timeout) / period) failures in a row; one more must be needed to unready. */}}
{{- $r := $v.probes.readiness }}
{{- $rPeriod := int $r.periodSeconds }}
{{- $rTimeout := int $r.timeoutSeconds }}
{{- $rFailures := int $r.failureThreshold }}
{{- if lt (mul (sub $rFailures 1) $rPeriod) (add $blip $rTimeout) }}
{{- fail (printf "failure budget: probes.readiness (failureThreshold %d, periodSeconds %d, timeoutSeconds %d) would mark pods unready during a failureBudget.storeBlipSeconds (%d) store blip: (failureThreshold - 1) x periodSeconds must be at least storeBlipSeconds + timeoutSeconds, or every pod leaves the Service at once" $rFailures $rPeriod $rTimeout $blip) }}
{{- end }}
{{- if gt (add (mul $rFailures $rPeriod) $rTimeout) $removal }}
{{- fail (printf "failure budget: probes.readiness takes up to failureThreshold x periodSeconds + timeoutSeconds = %d s to take a broken pod out, more than failureBudget.brokenPodRemovalSeconds (%d)" (add (mul $rFailures $rPeriod) $rTimeout) $removal) }}
{{- end }}

{{- /* Disk: the emptyDir holds the whole spool, the ephemeral-storage limit holds the emptyDir. */}}
{{- $spoolMi := include "roster.spoolMi" . | int64 }}
{{- $tmpMi := include "roster.tmpMi" . | int64 }}
{{- $tmpNeeded := add $spoolMi (int64 $v.tmp.marginMi) }}
{{- if lt $tmpMi $tmpNeeded }}
{{- fail (printf "failure budget: tmp.sizeLimitMi (%d) must be at least the upload spool (config.concurrentUploads x 2 x config.maxAvatarBytes = %d MiB) + tmp.marginMi (%d): an upload burst would fill /tmp past its limit and the kubelet evicts the pod with every request in flight" $tmpMi $spoolMi (int64 $v.tmp.marginMi)) }}
{{- end }}
{{- $ephemeralMi := include "roster.ephemeralMi" . | int64 }}
{{- $ephemeralNeeded := add $tmpMi (int64 $v.ephemeralStorage.logsMi) }}
{{- if lt $ephemeralMi $ephemeralNeeded }}
{{- fail (printf "failure budget: ephemeralStorage.mi (%d) must be at least the /tmp emptyDir (%d MiB) + ephemeralStorage.logsMi (%d): a full spool would exceed the container's ephemeral-storage limit and the kubelet evicts the pod" $ephemeralMi $tmpMi (int64 $v.ephemeralStorage.logsMi)) }}
{{- end }}

{{- /* Disruptions: a drain goes on, one pod at a time, and never takes every replica. */}}
{{- if $v.podDisruptionBudget.enabled }}
{{- $budget := $v.podDisruptionBudget.maxUnavailable }}
{{- $replicas := ternary (int $v.autoscaling.minReplicas) (int $v.replicaCount) $v.autoscaling.enabled }}
{{- if kindIs "string" $budget }}
{{- $percent := trimSuffix "%" $budget | int }}
{{- if eq $percent 0 }}
{{- fail (printf "failure budget: podDisruptionBudget.maxUnavailable %s lets no pod be evicted: a node drain would never finish" $budget) }}
{{- else if and (gt $replicas 1) (ge $percent 100) }}
{{- fail (printf "failure budget: podDisruptionBudget.maxUnavailable %s must be below 100%%: a drain could evict every pod at once" $budget) }}
{{- end }}
{{- else if eq (int $budget) 0 }}
{{- fail "failure budget: podDisruptionBudget.maxUnavailable 0 lets no pod be evicted: a node drain would never finish" }}
{{- else if and (gt $replicas 1) (ge (int $budget) $replicas) }}
{{- fail (printf "failure budget: podDisruptionBudget.maxUnavailable (%d) must be below the replica count (%d): a drain could evict every pod at once" (int $budget) $replicas) }}
{{- end }}
{{- end }}

{{- /* The ALB: draining outlasts roster's shutdown, idle connections close from the ALB's
side, roster answers before the ALB gives up, and the health check rides out a blip. */}}
{{- if and $v.ingress.enabled $v.ingress.alb.enabled }}
{{- $alb := $v.ingress.alb }}
{{- if not $alb.certificateArn }}
{{- fail "ingress.alb.certificateArn is required: the ALB serves HTTPS on 443 with this ACM certificate and redirects HTTP to it" }}
{{- end }}
{{- $drain := int $alb.deregistrationDelaySeconds }}
{{- if lt $drain (add $preStop $shutdown) }}
{{- fail (printf "failure budget: ingress.alb.deregistrationDelaySeconds (%d), the ALB's draining window, must be at least lifecycle.preStopSleepSeconds + config.shutdownTimeoutSeconds (%d): the ALB would cut requests roster is still finishing" $drain (add $preStop $shutdown)) }}
{{- end }}
{{- $idle := int $alb.idleTimeoutSeconds }}
{{- if le (int $v.config.keepaliveTimeoutSeconds) $idle }}
{{- fail (printf "failure budget: config.keepaliveTimeoutSeconds (%d) must exceed ingress.alb.idleTimeoutSeconds (%d): roster would close idle connections the ALB may still send a request on (502)" (int $v.config.keepaliveTimeoutSeconds) $idle) }}
{{- end }}
{{- if ge $create $idle }}
{{- fail (printf "failure budget: config.createTimeoutSeconds (%d) must be below ingress.alb.idleTimeoutSeconds (%d): the ALB would answer 504 before roster answers the create" $create $idle) }}
{{- end }}
{{- if ge (int $v.config.uploadStallTimeoutSeconds) $idle }}
{{- fail (printf "failure budget: config.uploadStallTimeoutSeconds (%d) must be below ingress.alb.idleTimeoutSeconds (%d): the ALB would cut a stalled upload before roster answers 408" (int $v.config.uploadStallTimeoutSeconds) $idle) }}
{{- end }}
{{- $hc := $alb.healthCheck }}
{{- $hInterval := int $hc.intervalSeconds }}
{{- $hTimeout := int $hc.timeoutSeconds }}
{{- $hFailures := int $hc.unhealthyThreshold }}
{{- if ge $hTimeout $hInterval }}
{{- fail (printf "ingress.alb.healthCheck.timeoutSeconds (%d) must be below intervalSeconds (%d): the ALB refuses such a target group" $hTimeout $hInterval) }}
{{- end }}
{{- if lt (mul (sub $hFailures 1) $hInterval) (add $blip $hTimeout) }}
{{- fail (printf "failure budget: ingress.alb.healthCheck (unhealthyThreshold %d, intervalSeconds %d, timeoutSeconds %d) would mark targets unhealthy during a failureBudget.storeBlipSeconds (%d) store blip: (unhealthyThreshold - 1) x intervalSeconds must be at least storeBlipSeconds + timeoutSeconds" $hFailures $hInterval $hTimeout $blip) }}
{{- end }}
{{- if gt (add (mul $hFailures $hInterval) $hTimeout) $removal }}
{{- fail (printf "failure budget: ingress.alb.healthCheck takes up to unhealthyThreshold x intervalSeconds + timeoutSeconds = %d s to take a broken target out, more than failureBudget.brokenPodRemovalSeconds (%d)" (add (mul $hFailures $hInterval) $hTimeout) $removal) }}
{{- end }}
{{- $written := include "roster.albAnnotations" . | fromYaml }}
{{- range $key, $_ := $v.ingress.annotations }}
{{- if hasKey $written $key }}
{{- fail (printf "ingress.annotations sets %s, which ingress.alb.* writes (and the failure budget checks): change the ingress.alb value instead" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
