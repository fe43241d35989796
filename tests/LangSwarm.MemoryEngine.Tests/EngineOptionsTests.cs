using LangSwarm.Memory;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary><see cref="EngineOptions.Validate"/>: every bad setting is refused by name before anything is opened.</summary>
public sealed class EngineOptionsTests
{
    private static readonly EngineOptions Good = new() { Path = "/nonexistent/never-created" };

    public static TheoryData<string, EngineOptions> Bad() => new()
    {
        { "Path", Good with { Path = " " } },
        { "Durability", Good with { Durability = (DurabilityMode)7 } },
        { "BatchedInterval", Good with { BatchedInterval = TimeSpan.Zero } },
        { "BatchedInterval", Good with { BatchedInterval = TimeSpan.FromHours(1) } },
        { "SegmentMaxBytes", Good with { SegmentMaxBytes = 1 } },
        { "SegmentMaxBytes", Good with { SegmentMaxBytes = 4L << 30 } },
        { "CheckpointLogBytes", Good with { CheckpointLogBytes = 100 } },
        { "CheckpointRecords", Good with { CheckpointRecords = 0 } },
        { "IndexCacheBytes", Good with { IndexCacheBytes = -1 } },
        { "SyncAllAbove", Good with { SyncAllAbove = -1 } },
        { "AutoVacuumDeadFraction", Good with { AutoVacuumDeadFraction = 1.5 } },
        { "AutoVacuumInterval", Good with { AutoVacuumInterval = TimeSpan.FromSeconds(-5) } },
        { "AutoVacuumWhenIdleFor", Good with { AutoVacuumWhenIdleFor = TimeSpan.Zero } },
        { "AutoVacuumInterval", Good with { AutoVacuumDeadFraction = 0.3, AutoVacuumInterval = Timeout.InfiniteTimeSpan } },
        { "MaxLoadedSessions", Good with { MaxLoadedSessions = -1 } },
        { "VacuumPause", Good with { VacuumPause = TimeSpan.FromMilliseconds(-1) } },
        { "IndexCompactMinFreeBytes", Good with { IndexCompactMinFreeBytes = -1 } },
        { "OpenSegmentHandles", Good with { OpenSegmentHandles = 0 } },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void A_bad_setting_is_refused_by_name_by_the_backend_constructor(string field, EngineOptions options)
    {
        var ex = Assert.Throws<ArgumentException>(() => new EngineBackend(options));
        Assert.Contains(field + ":", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(options.Path), "nothing is created for refused options");
    }

    [Fact]
    public void Several_bad_settings_are_named_together_and_good_ones_pass()
    {
        Good.Validate();
        (Good with { AutoVacuumInterval = Timeout.InfiniteTimeSpan, AutoVacuumDeadFraction = 0.3, AutoVacuumWhenIdleFor = TimeSpan.FromSeconds(1) }).Validate();
        var ex = Assert.Throws<ArgumentException>(() => (Good with { SegmentMaxBytes = 1, OpenSegmentHandles = 0 }).Validate());
        Assert.Contains("SegmentMaxBytes:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("OpenSegmentHandles:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_provider_refuses_a_setting_out_of_its_range_with_a_configuration_error()
    {
        var settings = new BackendSettings(new Dictionary<string, object?> { ["path"] = "/nonexistent/x", ["segment_max_bytes"] = 1 });
        var ex = Assert.Throws<MemoryConfigurationException>(() => new EngineBackendProvider().Create(settings));
        Assert.Contains("segment_max_bytes", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists("/nonexistent/x"));
    }

    [Fact]
    public void The_permissions_setting_names_the_check_and_a_bad_value_is_refused()
    {
        var warn = (EngineBackend)new EngineBackendProvider().Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = "/nonexistent/x", ["permissions"] = "warn" }));
        Assert.Equal(PermissionCheck.Warn, warn.Options.Permissions);
        var ex = Assert.ThrowsAny<MemoryException>(() => new EngineBackendProvider().Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = "/nonexistent/x", ["permissions"] = "lax" })));
        Assert.Contains("permissions", ex.Message, StringComparison.Ordinal);
    }
}
