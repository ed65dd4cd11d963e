{{/* Restricted pod security: non-root, read-only root filesystem, no privilege escalation, no
capabilities, RuntimeDefault seccomp. */}}
{{- define "peakshop-lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .root.Values.app.uid }}
runAsGroup: {{ .root.Values.app.uid }}
fsGroup: {{ .root.Values.app.uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "peakshop-lib.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .root.Values.app.uid }}
runAsGroup: {{ .root.Values.app.uid }}
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The default entry point of each kind: gunicorn for web services (apps/<pkg>/wsgi.py exits with a
message on bad settings); `python -m apps.workers <workload>` (a Celery worker on SQS) for workers. */}}
{{- define "peakshop-lib.command" -}}
{{- $pkg := include "peakshop-lib.package" . -}}
{{- if .w.command -}}
{{- toYaml .w.command -}}
{{- else if eq .w.kind "web" -}}
{{- toYaml (list "gunicorn" "--config" "apps/runtime/gunicorn_conf.py" (printf "apps.%s.wsgi:app" $pkg)) -}}
{{- else -}}
{{- toYaml (list "python" "-m" "apps.workers" .name) -}}
{{- end -}}
{{- end }}

{{- define "peakshop-lib.podSpec" -}}
{{- $v := .root.Values -}}
{{- $web := eq .w.kind "web" -}}
serviceAccountName: {{ .name }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- include "peakshop-lib.podSecurityContext" . | nindent 2 }}
terminationGracePeriodSeconds: {{ ternary $v.shutdown.terminationGracePeriodSeconds $v.shutdown.workerTerminationGracePeriodSeconds $web }}
# web: the checkout path; worker (queue workers, outbox relay): background, yields to web at a peak.
priorityClassName: {{ include "peakshop-lib.priorityClassName" (dict "root" .root "tier" .w.priorityClass) }}
topologySpreadConstraints:
  # Zones first: a zone outage leaves capacity in the others. Nodes of a lost zone are tainted and
  # therefore (nodeTaintsPolicy: Honor) stop counting, so rescheduling is not blocked by the skew.
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    nodeTaintsPolicy: Honor
    labelSelector:
      matchLabels:
        {{- include "peakshop-lib.selectorLabels" . | nindent 8 }}
    matchLabelKeys: [pod-template-hash]
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "peakshop-lib.selectorLabels" . | nindent 8 }}
    matchLabelKeys: [pod-template-hash]
containers:
  - name: app
    image: {{ include "peakshop-lib.image" . }}
    imagePullPolicy: Always
    command: {{ include "peakshop-lib.secretsEntrypoint" . }}
    args:
      {{- include "peakshop-lib.command" . | nindent 6 }}
    envFrom:
      - configMapRef:
          name: {{ .name }}
    {{- if include "peakshop-lib.hasSecrets" . }}
    env:
      - {name: PEAKSHOP_SECRETS_DIR, value: /run/secrets/peakshop}
    {{- end }}
    {{- if $web }}
    ports:
      - name: http
        containerPort: {{ $v.app.port }}
        protocol: TCP
    startupProbe:
      httpGet: {path: {{ $v.app.livenessPath }}, port: http}
      {{- toYaml $v.probes.startup | nindent 6 }}
    readinessProbe:
      httpGet: {path: {{ $v.app.readinessPath }}, port: http}
      {{- toYaml $v.probes.readiness | nindent 6 }}
    livenessProbe:
      httpGet: {path: {{ $v.app.livenessPath }}, port: http}
      {{- toYaml $v.probes.liveness | nindent 6 }}
    lifecycle:
      preStop:
        # Keep serving while the load balancer controller deregisters the pod from the target group.
        sleep: {seconds: {{ $v.shutdown.preStopSleepSeconds }}}
    {{- else }}
    ports:
      - name: metrics
        containerPort: {{ $v.worker.metricsPort }}
        protocol: TCP
    # Workers serve no traffic: the probes ask the metrics server the worker process runs
    # (apps/workers: METRICS_PORT), which answers while the process is alive and not wedged.
    startupProbe:
      httpGet: {path: /metrics, port: metrics}
      periodSeconds: 5
      failureThreshold: 24
    readinessProbe:
      httpGet: {path: /metrics, port: metrics}
      periodSeconds: 15
      timeoutSeconds: 5
    livenessProbe:
      httpGet: {path: /metrics, port: metrics}
      periodSeconds: 30
      timeoutSeconds: 5
      failureThreshold: 3
    {{- end }}
    resources:
      {{- toYaml .w.resources | nindent 6 }}
    securityContext:
      {{- include "peakshop-lib.containerSecurityContext" . | nindent 6 }}
    volumeMounts:
      - {name: tmp, mountPath: /tmp}
      {{- if $web }}
      - {name: metrics, mountPath: /run/peakshop-metrics}
      {{- end }}
      {{- if .w.database }}
      - {name: rds-ca, mountPath: /etc/peakshop/rds-ca, readOnly: true}
      {{- end }}
      - {name: entrypoint, mountPath: /opt/peakshop/bin, readOnly: true}
      {{- if include "peakshop-lib.hasSecrets" . }}
      - {name: secrets, mountPath: /run/secrets/peakshop, readOnly: true}
      {{- end }}
volumes:
  - name: tmp
    emptyDir: {medium: Memory, sizeLimit: 64Mi}
  {{- if $web }}
  - name: metrics
    emptyDir: {medium: Memory, sizeLimit: 32Mi}
  {{- end }}
  {{- if .w.database }}
  - name: rds-ca
    configMap: {name: peakshop-rds-ca}
  {{- end }}
  - name: entrypoint
    configMap: {name: peakshop-entrypoint}
  {{- if include "peakshop-lib.hasSecrets" . }}
  - name: secrets
    secret: {secretName: {{ .name }}, defaultMode: 0440}
  {{- end }}
{{- end }}

{{/* Secrets are mounted as files; secrets_env.py (umbrella chart files/, mounted from the
peakshop-entrypoint ConfigMap) exports them as the PEAKSHOP_* variables the app reads and execs the real
command. */}}
{{- define "peakshop-lib.secretsEntrypoint" -}}
[python, /opt/peakshop/bin/secrets_env.py]
{{- end }}
