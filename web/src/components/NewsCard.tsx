import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { useI18n, type Lang } from "../i18n";

type NewsText = Pick<Schemas["News"], "title_fr" | "title_en" | "body_fr" | "body_en">;

/** One item in the reader's language: what the home screen shows, and the editor's preview. */
export function NewsItem({ item, lang, level = 3 }: { item: NewsText; lang: Lang; level?: 3 | 4 }) {
  const Heading = level === 3 ? "h3" : "h4";
  return (
    <article className="news-item" lang={lang}>
      <Heading>{lang === "fr" ? item.title_fr : item.title_en}</Heading>
      <p>{lang === "fr" ? item.body_fr : item.body_en}</p>
    </article>
  );
}

/** The seasonal news valid today for the reader, on the home screen; nothing at all when there is none. */
export function NewsCard() {
  const { t, lang } = useI18n();
  const news = useQuery({ queryKey: ["news"], retry: false, staleTime: 10 * 60_000,
    queryFn: () => unwrap(api.GET("/api/v1/news")) });
  if (!news.data?.length) return null;
  return (
    <section className="card news" aria-labelledby="news-title">
      <h2 id="news-title">{t("news.title")}</h2>
      {news.data.slice(0, 3).map((item) => (
        <NewsItem key={item.id} item={item} lang={lang} />
      ))}
    </section>
  );
}
