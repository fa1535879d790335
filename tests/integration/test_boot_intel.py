"""The same ISO on an Intel machine: Bochs with a Haswell model (VMX, EPT, x2APIC)."""

from hvrun import bochs


def test_bochs_haswell_boots_with_vmx_and_x2apic():
    run = bochs(smp=2)
    assert run.status == 0, run
    rep = run.report()
    assert rep["cpu vendor"] == "GenuineIntel"
    assert rep["cores online"] == "2", run
    assert rep["virtualization"] == "Intel VT-x (VMX)"
    assert rep["vmx ept"].startswith("yes")
    assert rep["vmx vpid"] == "yes"
    assert rep["vmx unrestricted guest"] == "yes"
    # this model has x2APIC and the TSC-deadline timer: the other code paths than QEMU's
    assert rep["local apic"] == "x2apic"
    assert rep["apic timer"] == "tsc-deadline"
    assert rep["apic timer working"] == "2 of 2 cores"
    assert 240 <= int(rep["memory usable"].split()[0]) < 256


def test_bochs_fault_on_second_cpu_stops_both():
    """The NMI that stops the other CPUs goes through the x2APIC here."""
    run = bochs(smp=2, cmdline="test_fault=gp test_fault_cpu=1")
    assert run.status == 3, run
    assert "fatal exception #GP general protection (vector 13) on CPU 1 (APIC ID 1)" in run.log
    assert "hv: all CPUs stopped" in run.log
