{{/*
Schema migrations before the new release's pods start (pre-install, pre-upgrade): `python -m
apps.runtime.migrate <package>` applies expand-only migrations, so the pods still running the previous
release keep working. Its secret (weight -5), the SecretStore and the `-hook` copies of the CA bundle and
entry point ConfigMaps (weight -10, umbrella chart) are hooks too: on a first install nothing of the release
exists yet when hooks run. Hence no priorityClassName: the release's PriorityClasses do not exist yet either
(admission would reject the pod), and making them hooks would delete and re-create them on every upgrade
under the pods using them. The Job runs at the cluster's default priority (0 without a globalDefault class):
it never preempts and, like a background pod, yields to web pods; a retry (backoffLimit) resumes after the
last recorded version.
*/}}
{{- define "peakshop-lib.migrationJob" -}}
{{- $v := .root.Values -}}
{{- $m := $v.migrations -}}
{{- $job := printf "%s-migrate" .name -}}
{{- $jobCtx := dict "root" .root "name" $job "w" (dict "kind" "migrations") -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ $job }}
  namespace: {{ $v.namespace }}
  labels:
    {{- include "peakshop-lib.labels" $jobCtx | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $m.backoffLimit }}
  activeDeadlineSeconds: {{ $m.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
        {{- include "peakshop-lib.labels" $jobCtx | nindent 8 }}
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        {{- include "peakshop-lib.podSecurityContext" . | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "peakshop-lib.image" . }}
          imagePullPolicy: Always
          command: {{ include "peakshop-lib.secretsEntrypoint" . }}
          args: [python, -m, apps.runtime.migrate, {{ include "peakshop-lib.package" . }}]
          env:
            - name: {{ include "peakshop-lib.envPrefix" . }}DB_TLS_CA
              value: /etc/peakshop/rds-ca/bundle.pem
            - {name: PEAKSHOP_SECRETS_DIR, value: /run/secrets/peakshop}
          resources:
            {{- toYaml $m.resources | nindent 12 }}
          securityContext:
            {{- include "peakshop-lib.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            - {name: rds-ca, mountPath: /etc/peakshop/rds-ca, readOnly: true}
            - {name: entrypoint, mountPath: /opt/peakshop/bin, readOnly: true}
            - {name: secrets, mountPath: /run/secrets/peakshop, readOnly: true}
      volumes:
        - name: tmp
          emptyDir: {medium: Memory, sizeLimit: 16Mi}
        - name: rds-ca
          configMap: {name: peakshop-rds-ca-hook}
        - name: entrypoint
          configMap: {name: peakshop-entrypoint-hook}
        - name: secrets
          secret: {secretName: {{ $job }}, defaultMode: 0440}
{{- end }}
