import { useI18n } from "../i18n";

/** Where the resident is in the first steps after signing up: the home first, then the meters. */
export function OnboardingSteps({ current }: { current: 1 | 2 }) {
  const { t } = useI18n();
  const steps = [t("onboarding.step.dwelling"), t("onboarding.step.meters")];
  return (
    <nav className="steps" aria-label={t("onboarding.steps")}>
      <p className="steps-count">{t("onboarding.step_of", { n: current, total: steps.length })}</p>
      <ol>
        {steps.map((name, i) => (
          <li key={name} aria-current={i + 1 === current ? "step" : undefined}
            className={i + 1 < current ? "done" : undefined}>
            {name}
          </li>
        ))}
      </ol>
    </nav>
  );
}

/** A Linky's display showing its PRM, as it looks after pressing "+" a few times. */
function LinkySvg() {
  const { t } = useI18n();
  return (
    <svg viewBox="0 0 200 150" width="200" height="150" role="img" aria-labelledby="linky-svg-title">
      <title id="linky-svg-title">{t("help.linky.picture")}</title>
      <rect x="20" y="4" width="160" height="142" rx="14" fill="#c7d63b" stroke="#4d5414" strokeWidth="2" />
      <rect x="40" y="20" width="120" height="46" rx="4" fill="#1d2b26" />
      <text x="100" y="38" fill="#e8f5c8" fontSize="11" textAnchor="middle" fontFamily="monospace">NUMERO PRM</text>
      <text x="100" y="56" fill="#e8f5c8" fontSize="12" textAnchor="middle" fontFamily="monospace">09123456789012</text>
      <circle cx="75" cy="90" r="11" fill="#fff" stroke="#4d5414" strokeWidth="2" />
      <text x="75" y="95" fontSize="14" textAnchor="middle" fill="#1d2b26">−</text>
      <circle cx="125" cy="90" r="11" fill="#fff" stroke="#0b6e4f" strokeWidth="3" />
      <text x="125" y="95" fontSize="14" textAnchor="middle" fill="#1d2b26">+</text>
      <text x="100" y="130" fontSize="16" textAnchor="middle" fill="#1d2b26" fontWeight="bold">linky</text>
    </svg>
  );
}

/** A Gazpar meter: its display shows the index, not the PCE (the PCE is on the bill). */
function GazparSvg() {
  const { t } = useI18n();
  return (
    <svg viewBox="0 0 200 150" width="200" height="150" role="img" aria-labelledby="gazpar-svg-title">
      <title id="gazpar-svg-title">{t("help.gazpar.picture")}</title>
      <rect x="30" y="4" width="140" height="142" rx="10" fill="#e9eef0" stroke="#33443d" strokeWidth="2" />
      <rect x="50" y="24" width="100" height="30" rx="3" fill="#fff" stroke="#33443d" />
      <text x="100" y="45" fontSize="14" textAnchor="middle" fontFamily="monospace" fill="#1d2b26">04512,3 m³</text>
      <rect x="50" y="70" width="100" height="34" rx="3" fill="#ffd34d" stroke="#33443d" />
      <text x="100" y="84" fontSize="9" textAnchor="middle" fill="#1d2b26">GRDF · gazpar</text>
      <text x="100" y="97" fontSize="9" textAnchor="middle" fill="#1d2b26">{t("help.gazpar.sticker")}</text>
      <text x="100" y="130" fontSize="12" textAnchor="middle" fill="#1d2b26">Gazpar</text>
    </svg>
  );
}

/** An excerpt of a bill with the delivery point reference highlighted. */
function BillSvg({ energy }: { energy: "electricity" | "gas" }) {
  const { t } = useI18n();
  const id = `bill-svg-title-${energy}`;
  const label = energy === "gas" ? t("help.bill.pce") : t("help.bill.prm");
  const value = energy === "gas" ? "21234567890123" : "0912 3456 7890 12";
  return (
    <svg viewBox="0 0 220 150" width="220" height="150" role="img" aria-labelledby={id}>
      <title id={id}>{t(energy === "gas" ? "help.bill.picture.gas" : "help.bill.picture.electricity")}</title>
      <rect x="4" y="4" width="212" height="142" rx="4" fill="#fff" stroke="#33443d" />
      <rect x="16" y="16" width="90" height="8" fill="#c9d3cf" />
      <rect x="16" y="32" width="150" height="6" fill="#e3e9e6" />
      <rect x="16" y="44" width="130" height="6" fill="#e3e9e6" />
      <rect x="10" y="62" width="200" height="40" rx="4" fill="#fff4c2" stroke="#8a5a00" strokeWidth="2" />
      <text x="18" y="78" fontSize="10" fill="#1d2b26">{label}</text>
      <text x="18" y="94" fontSize="11" fill="#1d2b26" fontFamily="monospace" fontWeight="bold">{value}</text>
      <rect x="16" y="114" width="170" height="6" fill="#e3e9e6" />
      <rect x="16" y="126" width="110" height="6" fill="#e3e9e6" />
    </svg>
  );
}

/** Where to find the PRM (electricity) or the PCE (gas), with pictures, and what the DSO's page will ask. */
export function MeterHelp({ energy }: { energy: "electricity" | "gas" }) {
  const { t } = useI18n();
  const gas = energy === "gas";
  return (
    <section className="help" aria-labelledby="meter-help-title">
      <h3 id="meter-help-title">{t(gas ? "help.pce.title" : "help.prm.title")}</h3>
      <div className="help-pictures">
        <figure>
          <BillSvg energy={energy} />
          <figcaption>{t(gas ? "help.pce.bill" : "help.prm.bill")}</figcaption>
        </figure>
        <figure>
          {gas ? <GazparSvg /> : <LinkySvg />}
          <figcaption>{t(gas ? "help.pce.meter" : "help.prm.meter")}</figcaption>
        </figure>
      </div>
      <p>{t(gas ? "help.pce.online" : "help.prm.online")}</p>
      <h3>{t(gas ? "help.dso.grdf.title" : "help.dso.enedis.title")}</h3>
      <ol className="dso-steps">
        {(gas
          ? (["help.dso.grdf.1", "help.dso.grdf.2", "help.dso.grdf.3"] as const)
          : (["help.dso.enedis.1", "help.dso.enedis.2", "help.dso.enedis.3", "help.dso.enedis.4"] as const)
        ).map((key) => (
          <li key={key}>{t(key)}</li>
        ))}
      </ol>
      <p className="muted">{t(gas ? "help.dso.grdf.after" : "help.dso.enedis.after")}</p>
    </section>
  );
}
