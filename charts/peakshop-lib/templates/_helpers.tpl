{{/*
Shared names and labels. Every template takes a context dict: root (the umbrella's top-level context),
name (the workload name from stacks/workloads.py) and w (the workload's values merged onto its kind's
defaults by "peakshop-lib.workload").
*/}}

{{- define "peakshop-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{- define "peakshop-lib.labels" -}}
{{ include "peakshop-lib.selectorLabels" . }}
app.kubernetes.io/part-of: peakshop
app.kubernetes.io/component: {{ .w.kind }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
peakshop.example.com/stage: {{ .root.Values.stage }}
{{- end }}

{{/* The environment prefix the app reads its settings from: PEAKSHOP_<SERVICE>_ (apps/runtime/config.py). */}}
{{- define "peakshop-lib.envPrefix" -}}
{{- printf "PEAKSHOP_%s_" (.name | upper | replace "-" "_") -}}
{{- end }}

{{/* Python package of a workload: apps/<name with underscores>/. */}}
{{- define "peakshop-lib.package" -}}
{{- .name | replace "-" "_" -}}
{{- end }}

{{/* IRSA role ARN: the role stacks/compute.py creates, named by stacks/workloads.py irsa_role_name(). */}}
{{- define "peakshop-lib.roleArn" -}}
{{- $p := .root.Values.pipeline -}}
{{- printf "arn:%s:iam::%s:role/peakshop-%s-%s-%s" $p.partition $p.accountId .root.Values.stage (substr 0 1 $p.regionRole) .name -}}
{{- end }}

{{/* The workload's image, always by digest: the pipeline sets the digest it pushed to the stage's ECR
repository peakshop/<stage>/<workload> (stacks/compute.py; replicated to the secondary region). */}}
{{- define "peakshop-lib.image" -}}
{{- $p := .root.Values.pipeline -}}
{{- $digest := required (printf "pipeline.imageDigests.%s: the pipeline sets the image digest of every workload" .name) (index $p.imageDigests .name) -}}
{{- printf "%s/peakshop/%s/%s@%s" $p.imageRegistry .root.Values.stage .name $digest -}}
{{- end }}

{{/* The cluster-scoped PriorityClass of a `priorityClasses` key (umbrella platform.yaml renders them):
peakshop-<stage>-<key>, so stages sharing a cluster never collide. Context: root and tier (the key). */}}
{{- define "peakshop-lib.priorityClassName" -}}
{{- if not (hasKey .root.Values.priorityClasses .tier) -}}
{{- fail (printf "priorityClass %q is not a key of priorityClasses" .tier) -}}
{{- end -}}
{{- printf "peakshop-%s-%s" .root.Values.stage .tier -}}
{{- end }}

{{/* CIDRs of the region this cluster runs in (values-<stage>.yaml, from stacks/config.py). */}}
{{- define "peakshop-lib.network" -}}
{{- toYaml (index .root.Values.network .root.Values.pipeline.regionRole) -}}
{{- end }}

{{- define "peakshop-lib.metadata" -}}
name: {{ .name }}
namespace: {{ .root.Values.namespace }}
labels:
  {{- include "peakshop-lib.labels" . | nindent 2 }}
{{- end }}
