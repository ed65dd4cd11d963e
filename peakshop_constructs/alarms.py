"""CloudWatch alarms that always notify the alerts topic (on ALARM and on OK), so none can be silent."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_composite_alarm import CloudwatchCompositeAlarm
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct

FIVE_MINUTES = 300


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    statistic: str = "Sum"


class Alarms:
    """Creates alarms in `scope`, named `<prefix>-<name>`, each notifying `topic_arn`."""

    def __init__(self, scope: Construct, prefix: str, topic_arn: str) -> None:
        self.scope = scope
        self.prefix = prefix
        self.topic_arn = topic_arn
        self.created: list[CloudwatchMetricAlarm] = []

    def name(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def _alarm(self, name: str, description: str, **settings: object) -> CloudwatchMetricAlarm:
        alarm = CloudwatchMetricAlarm(  # every alarm pages through the alerts topic
            self.scope,
            f"alarm-{name}",
            alarm_name=self.name(name),
            alarm_description=description,
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
            **settings,  # type: ignore[arg-type]
        )
        self.created.append(alarm)
        return alarm

    def above(
        self,
        name: str,
        description: str,
        metric: Metric,
        threshold: float,
        *,
        periods: int = 3,
        datapoints: int | None = None,
        period: int = FIVE_MINUTES,
        missing: str = "missing",
        below: bool = False,
        extended_statistic: str | None = None,
    ) -> CloudwatchMetricAlarm:
        """Alarm when `datapoints` of the last `periods` periods are above (or below) the threshold."""
        return self._alarm(
            name,
            description,
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions=metric.dimensions or None,
            statistic=None if extended_statistic else metric.statistic,
            extended_statistic=extended_statistic,
            period=period,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints or periods,
            threshold=threshold,
            comparison_operator="LessThanThreshold" if below else "GreaterThanThreshold",
            treat_missing_data=missing,
        )

    def percent(
        self,
        name: str,
        description: str,
        parts: list[Metric],
        whole: Metric,
        threshold_percent: float,
        *,
        periods: int = 3,
        period: int = FIVE_MINUTES,
    ) -> CloudwatchMetricAlarm:
        """Alarm on 100 * sum(parts) / whole (e.g. 5xx responses over requests); no traffic is not an alarm."""

        def query(query_id: str, metric: Metric) -> CloudwatchMetricAlarmMetricQuery:
            return CloudwatchMetricAlarmMetricQuery(
                id=query_id,
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace=metric.namespace,
                    metric_name=metric.name,
                    dimensions=metric.dimensions,
                    stat=metric.statistic,
                    period=period,
                ),
                return_data=False,
            )

        return self._alarm(
            name,
            description,
            metric_query=[
                *(query(f"part{i}", part) for i, part in enumerate(parts)),
                query("whole", whole),
                CloudwatchMetricAlarmMetricQuery(
                    id="rate",
                    expression="100 * (" + " + ".join(f"FILL(part{i}, 0)" for i in range(len(parts))) + ") / whole",
                    label=f"{name} %",
                    return_data=True,
                ),
            ],
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            threshold=threshold_percent,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )

    def any_of(self, name: str, description: str, alarm_names: list[str]) -> CloudwatchCompositeAlarm:
        """A composite alarm that is in ALARM while any of the named alarms is."""
        return CloudwatchCompositeAlarm(
            self.scope,
            f"composite-{name}",
            alarm_name=self.name(name),
            alarm_description=description,
            alarm_rule=" OR ".join(f'ALARM("{n}")' for n in alarm_names),
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
        )
