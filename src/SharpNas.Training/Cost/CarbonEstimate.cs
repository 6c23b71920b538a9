namespace SharpNas.Training.Cost;

/// <summary>
/// Energy and CO₂-equivalent of a computation, by the ML Emissions Calculator's method (Lacoste et al. 2019):
/// energy (kWh) = power (W) × hours / 1000; CO₂eq (kg) = energy × grid carbon intensity (kg/kWh).
/// Defaults: <see cref="DefaultPowerWatts"/> for the two server cores this runs on, <see cref="DefaultGridKgPerKwh"/>
/// the world-average grid intensity; both are options of every command that reports them.
/// </summary>
public sealed record CarbonEstimate(double PowerWatts, double GridKgPerKwh)
{
    /// <summary>Two cores of a ~200 W, 64-core server CPU plus their share of memory and board: ≈ 20 W.</summary>
    public const double DefaultPowerWatts = 20.0;
    /// <summary>World-average electricity carbon intensity, ≈ 0.475 kg CO₂eq per kWh (IEA).</summary>
    public const double DefaultGridKgPerKwh = 0.475;

    /// <summary>The defaults.</summary>
    public static CarbonEstimate Default { get; } = new(DefaultPowerWatts, DefaultGridKgPerKwh);

    /// <summary>kWh for a wall time.</summary>
    public double EnergyKwh(TimeSpan wall) => PowerWatts * wall.TotalHours / 1000.0;

    /// <summary>kg CO₂eq for a wall time.</summary>
    public double Co2Kg(TimeSpan wall) => EnergyKwh(wall) * GridKgPerKwh;
}
