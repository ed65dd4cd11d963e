{{/* ServiceAccount with the IRSA role. The API token is not mounted: the EKS webhook projects its own
audience-bound token for IRSA, and no workload talks to the Kubernetes API. */}}
{{- define "peakshop-lib.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
  annotations:
    eks.amazonaws.com/role-arn: {{ include "peakshop-lib.roleArn" . | quote }}
    eks.amazonaws.com/sts-regional-endpoints: "true"
automountServiceAccountToken: false
{{- end }}

{{/* Non-secret settings as PEAKSHOP_<SERVICE>_<KEY> (apps/runtime/config.py) plus process settings. */}}
{{- define "peakshop-lib.configEnv" -}}
{{- $prefix := include "peakshop-lib.envPrefix" . -}}
{{- $v := .root.Values -}}
{{- $env := dict (printf "%sLOG_LEVEL" $prefix) $v.app.logLevel -}}
{{- if .w.database }}
{{- $_ := set $env (printf "%sDB_TLS_CA" $prefix) "/etc/peakshop/rds-ca/bundle.pem" -}}
{{- end }}
{{- if .w.redis }}
{{- $_ := set $env (printf "%sREDIS_URL" $prefix) (printf "rediss://%s@%s:6379/0" $v.pipeline.redisUser $v.pipeline.redisHost) -}}
{{- $_ := set $env (printf "%sREDIS_IAM_GROUP" $prefix) $v.pipeline.redisGroup -}}
{{- end }}
{{- if eq .w.kind "worker" }}
{{- $queues := .w.produces | default list -}}
{{- if .w.consumes }}{{- $queues = append $queues .w.consumes -}}{{- end }}
{{- range $queues | uniq }}
{{- $_ := set $env (printf "%sQUEUE_URL_%s" $prefix (upper .)) (required (printf "pipeline.queueUrls.%s is required" .) (index $v.pipeline.queueUrls .)) -}}
{{- end }}
{{- end }}
{{- if eq .w.kind "web" }}
{{- $_ := set $env (printf "%sDRAIN_S" $prefix) (toString $v.shutdown.drainSeconds) -}}
{{- $_ := set $env "GUNICORN_WORKERS" (toString .w.gunicorn.workers) -}}
{{- $_ := set $env "GUNICORN_THREADS" (toString .w.gunicorn.threads) -}}
{{- $_ := set $env "PROMETHEUS_MULTIPROC_DIR" "/run/peakshop-metrics" -}}
{{- else }}
{{- $_ := set $env (printf "%sCONCURRENCY" $prefix) (toString .w.concurrency) -}}
{{- $_ := set $env (printf "%sMETRICS_PORT" $prefix) (toString $v.worker.metricsPort) -}}
{{- end }}
{{- range $key, $value := .w.config }}
{{- $_ := set $env (printf "%s%s" $prefix $key) (tpl (toString $value) $.root) -}}
{{- end }}
{{- toYaml $env -}}
{{- end }}

{{- define "peakshop-lib.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
data:
  {{- include "peakshop-lib.configEnv" . | nindent 2 }}
{{- end }}

{{- define "peakshop-lib.hasSecrets" -}}
{{- if or .w.database .w.secretEnv }}true{{ end -}}
{{- end }}

{{/*
The workload's secrets, synced by External Secrets from AWS Secrets Manager into a Secret of the same
name. DB URLs are assembled by ESO's template from the `db` secret's username and password: no value ever
appears in the chart. With suffix "-migrate" and hook=true this is the copy the pre-install/pre-upgrade
migration Job reads (it must exist before the release's own resources do).
*/}}
{{- define "peakshop-lib.externalSecret" -}}
{{- $v := .root.Values -}}
{{- $prefix := include "peakshop-lib.envPrefix" . -}}
{{- $remote := printf "%s/%s" $v.app.secretsPrefix $v.stage -}}
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {{ .name }}{{ .suffix }}
  namespace: {{ $v.namespace }}
  labels:
    {{- include "peakshop-lib.labels" . | nindent 4 }}
  {{- if .hook }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
  {{- end }}
spec:
  refreshInterval: {{ $v.app.secretsRefreshInterval }}
  secretStoreRef:
    kind: SecretStore
    name: peakshop-secrets-manager
  target:
    name: {{ .name }}{{ .suffix }}
    creationPolicy: Owner
    deletionPolicy: Retain
    template:
      engineVersion: v2
      type: Opaque
      data:
        {{- if .w.database }}
        {{ $prefix }}DB_WRITER_URL: {{ printf "mysql://{{ .db_username | urlquery }}:{{ .db_password | urlquery }}@%s:3306/%s" $v.pipeline.dbWriterHost .w.database | quote }}
        {{- if not .hook }}
        {{ $prefix }}DB_READER_URL: {{ printf "mysql://{{ .db_username | urlquery }}:{{ .db_password | urlquery }}@%s:3306/%s" $v.pipeline.dbReaderHost .w.database | quote }}
        {{- range $key, $database := .w.extraDatabases }}
        {{ $prefix }}{{ $key }}: {{ printf "mysql://{{ .db_username | urlquery }}:{{ .db_password | urlquery }}@%s:3306/%s" $v.pipeline.dbWriterHost $database | quote }}
        {{- end }}
        {{- end }}
        {{- end }}
        {{- if not .hook }}
        {{- range $key, $ref := .w.secretEnv }}
        {{ $prefix }}{{ $key }}: {{ printf "{{ .%s }}" ($key | lower) | quote }}
        {{- end }}
        {{- end }}
  data:
    {{- if .w.database }}
    - secretKey: db_username
      remoteRef: {key: {{ $remote }}/db, property: username}
    - secretKey: db_password
      remoteRef: {key: {{ $remote }}/db, property: password}
    {{- end }}
    {{- if not .hook }}
    {{- range $key, $ref := .w.secretEnv }}
    - secretKey: {{ $key | lower }}
      remoteRef: {key: {{ $remote }}/{{ $ref.secret }}, property: {{ $ref.property }}}
    {{- end }}
    {{- end }}
{{- end }}
