{{/*
Everything one workload needs, web service or worker: the single entry point the umbrella chart calls.
Usage: {{ include "peakshop-lib.workload" (dict "root" $ "name" $name "w" $values) }}
*/}}
{{- define "peakshop-lib.workload" -}}
{{- $kind := .w.kind -}}
{{- if not (has $kind (list "web" "worker")) -}}
{{- fail (printf "workloads.%s.kind: expected web or worker, got %v" .name $kind) -}}
{{- end -}}
{{- $w := mergeOverwrite (deepCopy (index .root.Values $kind)) (deepCopy .w) -}}
{{- $ctx := dict "root" .root "name" .name "w" $w -}}
{{ include "peakshop-lib.serviceAccount" $ctx }}
---
{{ include "peakshop-lib.configMap" $ctx }}
{{- if include "peakshop-lib.hasSecrets" $ctx }}
---
{{ include "peakshop-lib.externalSecret" (merge (dict "suffix" "" "hook" false) $ctx) }}
{{- end }}
---
{{ include "peakshop-lib.deployment" $ctx }}
---
{{ include "peakshop-lib.networkPolicy" $ctx }}
{{- if eq $kind "web" }}
---
{{ include "peakshop-lib.service" $ctx }}
---
{{ include "peakshop-lib.podDisruptionBudget" $ctx }}
---
{{ include "peakshop-lib.horizontalPodAutoscaler" $ctx }}
---
{{ include "peakshop-lib.targetGroupBinding" $ctx }}
{{- else if not $w.singleton }}
---
{{ include "peakshop-lib.scaledObject" $ctx }}
{{- end }}
{{- if $w.migrations }}
---
{{ include "peakshop-lib.externalSecret" (merge (dict "suffix" "-migrate" "hook" true) $ctx) }}
---
{{ include "peakshop-lib.migrationJob" $ctx }}
{{- end }}
{{- end }}
